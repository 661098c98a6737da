using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// A closed replica runs no pump and no ticks again, so nothing it is asked afterwards may wait for either: the
/// request is answered StoreUnavailable at once (found by the replica simulation: a snapshot read that awaited the
/// oracle across a crash of its store registered a proposal in the closed core and was never answered).
/// </summary>
public sealed class ClosedReplicaTests
{
    [Fact]
    public void A_request_that_resumes_after_the_replica_closed_is_answered_StoreUnavailable_not_left_waiting()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();

        // The snapshot read waits for the oracle (the leader's read floor is not primed yet) while the replica closes.
        group.OracleGate = new TaskCompletionSource();
        var read = group.Core.TxnAsync(new TxnRequest { Shard = new ShardId(1), Epoch = 1, Op = TxnOp.Get, StartTs = group.WallClockMs << 18, Key = Encoding.UTF8.GetBytes("k") });
        group.Settle();
        Assert.False(read.IsCompleted, "the read did not wait for the oracle");

        group.Core.Close();
        group.OracleGate.SetResult();
        group.Settle();

        Assert.True(read.IsCompleted, "the read resumed into the closed replica and waits for a pump that never runs");
        Assert.Equal(NoKvErrorCode.StoreUnavailable, group.Run(read).Code);
    }

    [Fact]
    public void Writes_and_reads_sent_to_a_closed_replica_are_answered_StoreUnavailable_at_once()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        group.Core.Close();

        var write = group.Core.WriteAsync(new WriteRequest { Shard = new ShardId(1), Epoch = 1, Kind = WriteKind.Put, Key = Encoding.UTF8.GetBytes("k"), Value = Encoding.UTF8.GetBytes("v"), Session = new ClientSession(Guid.Empty, 0) });
        var get = group.Core.GetAsync(new ReadRequest { Shard = new ShardId(1), Epoch = 1, Key = Encoding.UTF8.GetBytes("k") });
        group.Settle();

        Assert.True(write.IsCompleted && get.IsCompleted, "a request to a closed replica waits for a pump that never runs");
        Assert.Equal(NoKvErrorCode.StoreUnavailable, group.Run(write).Code);
        Assert.Equal(NoKvErrorCode.StoreUnavailable, group.Run(get).Code);
    }
}
