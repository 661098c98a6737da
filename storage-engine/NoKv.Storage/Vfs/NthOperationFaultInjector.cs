namespace NoKv.Storage.Vfs;

/// <summary>
/// Injects <see cref="Action"/> into the Nth matching operation (1-based), and, when <see cref="Sticky"/>,
/// into every matching operation after it (a disk that stays broken). Thread-safe.
/// </summary>
public sealed class NthOperationFaultInjector : IFaultInjector
{
    private long _seen;
    private long _injected;

    public NthOperationFaultInjector(FileOperation operations, long n, FaultAction action, bool sticky = true, string? pathContains = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        Operations = operations;
        N = n;
        Action = action;
        Sticky = sticky;
        PathContains = pathContains;
    }

    public FileOperation Operations { get; }

    public long N { get; }

    public FaultAction Action { get; }

    public bool Sticky { get; }

    public string? PathContains { get; }

    /// <summary>Matching operations seen so far.</summary>
    public long Seen => Interlocked.Read(ref _seen);

    /// <summary>Faults injected so far (lets a test check the fault actually happened).</summary>
    public long Injected => Interlocked.Read(ref _injected);

    public FaultAction OnOperation(FileOperation operation, string path)
    {
        if ((operation & Operations) == 0 || (PathContains is not null && !path.Contains(PathContains, StringComparison.Ordinal)))
        {
            return FaultAction.None;
        }

        long k = Interlocked.Increment(ref _seen);
        if (k == N || (Sticky && k > N))
        {
            Interlocked.Increment(ref _injected);
            return operation == FileOperation.Append || Action == FaultAction.Fail ? Action : FaultAction.Fail;
        }

        return FaultAction.None;
    }
}
