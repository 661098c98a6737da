namespace NoKv.IntegrationTests.Linearizability;

/// <summary>Operations on one key, modelled as a register.</summary>
public enum OperationKind
{
    Get,
    Put,
    Delete,
    CompareAndSwap,
}
