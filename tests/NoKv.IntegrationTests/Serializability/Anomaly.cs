namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// One anomaly found in a history: <see cref="Kind"/> is Adya's name for it (G0, G1a, G1b, G1c, G-single, G2) or a
/// structural one (incompatible-order, duplicate-element, garbage-read, aborted-write-visible), with the evidence.
/// </summary>
public sealed record Anomaly(string Kind, string Evidence)
{
    public override string ToString() => $"{Kind}: {Evidence}";
}
