namespace NoKv.IntegrationTests.Serializability;

/// <summary>One edge of a dependency cycle.</summary>
internal readonly record struct CycleStep(int From, int To, DependencyKind Kind);
