using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// One measured stretch of `cluster --txn`: closed-loop operations of one system for a fixed time. A point is one
/// slice, or several when the two systems' slices are interleaved (<see cref="TxnTally"/> adds them up).
/// </summary>
/// <param name="Committed">Operations that committed (a transfer counts once however many attempts it took).</param>
/// <param name="Aborted">Aborted attempts of the committed operations.</param>
/// <param name="Elapsed">Wall time from the first operation's start to the last one's end.</param>
/// <param name="Latencies">Latency of each committed operation, reruns included.</param>
/// <param name="ServerCpu">CPU time of the measured system's server processes over the slice.</param>
/// <param name="ClientCpu">CPU time of this process (the load driver) over the slice.</param>
/// <param name="IdleCpu">CPU time of the other system's servers over the slice, when both run (what the idle one takes from the measured one).</param>
public sealed record TxnSlice(long Committed, long Aborted, TimeSpan Elapsed, LatencyHistogram Latencies, TimeSpan ServerCpu, TimeSpan ClientCpu, TimeSpan IdleCpu);
