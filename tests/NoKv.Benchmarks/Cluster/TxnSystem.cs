namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// One system under test in `cluster --txn` (NoKV or etcd), as the points see it: how to run a transfer and a plain
/// write, which transfer sizes it runs, and which processes are its servers. Immutable.
/// </summary>
/// <param name="Name">"nokv" or "etcd", as printed.</param>
/// <param name="Servers">The server processes' ids (CPU accounting); empty when unknown (an external etcd).</param>
/// <param name="TransferSizes">The k of the k-key transfers it runs.</param>
/// <param name="Transfer">One committed k-key transfer with accounts from the chooser; returns the aborted attempts it took.</param>
/// <param name="Write">One plain single-key write of a random account.</param>
/// <param name="ReadRaftCounters">The silos' Raft counters (NoKV only).</param>
/// <param name="Phases">Where its committed transfers' time went (NoKV only).</param>
public sealed record TxnSystem(
    string Name,
    IReadOnlyList<int> Servers,
    IReadOnlySet<int> TransferSizes,
    Func<Random, AccountChooser, int, Task<int>> Transfer,
    Func<Random, Task<int>> Write,
    Func<Task<RaftCounters>>? ReadRaftCounters,
    TxnPhaseTimes? Phases);
