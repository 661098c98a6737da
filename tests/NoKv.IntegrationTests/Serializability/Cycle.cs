namespace NoKv.IntegrationTests.Serializability;

/// <summary>A dependency cycle and the anomaly it shows (G0, G1c, G-single or G2).</summary>
internal sealed record Cycle(string Kind, IReadOnlyList<CycleStep> Steps);
