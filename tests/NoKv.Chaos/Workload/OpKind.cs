namespace NoKv.Chaos.Workload;

/// <summary>The single-key operations the workload issues; each is a register operation for the checker.</summary>
public enum OpKind
{
    Get,
    Put,
    Delete,
    CompareAndSwap,
}
