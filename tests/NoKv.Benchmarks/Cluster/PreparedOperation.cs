namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// An operation <see cref="OperationUnderLoad"/> times under load: <paramref name="RunAsync"/> starts it and returns
/// once it is done, with a line saying what it did; <paramref name="Heading"/> ends the report's first line.
/// </summary>
public sealed record PreparedOperation(string Heading, Func<CancellationToken, Task<string>> RunAsync);
