using BenchmarkDotNet.Attributes;
using NoKv.Benchmarks.Raft;
using NoKv.Raft;

namespace NoKv.Benchmarks.Micro;

/// <summary>
/// One batch of proposals through the in-memory 3-node cluster until all of them commit at the
/// leader; with OperationsPerInvoke the reported time and allocation are per committed entry.
/// </summary>
[MemoryDiagnoser]
public class RaftPumpBenchmarks
{
    private const int Batch = 256;

    private readonly ReadOnlyMemory<byte> _payload = new byte[RaftBenchmark.PayloadBytes];
    private InMemoryRaftCluster _cluster = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = new InMemoryRaftCluster(seed: 42);
        _cluster.ElectLeader();
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public long ProposeAndCommitBatch()
    {
        var target = _cluster.CommittedProposals + Batch;
        for (var i = 0; i < Batch; i++)
        {
            var result = _cluster.Leader.Propose(_payload);
            if (result.Status != ProposalStatus.Accepted)
            {
                throw new InvalidOperationException($"proposal refused: {result.Status}");
            }
        }
        while (_cluster.CommittedProposals < target)
        {
            _cluster.Pump();
        }
        return _cluster.CommittedProposals;
    }
}
