using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// The leader's record of stamped proposals not yet applied (the read floor's, for snapshot reads) stays bounded when
/// no snapshot read comes: it held every plain write of the leader's term before, which made a silo that led a shard
/// under a write load without transactions grow for as long as it led (the chaos soak's RSS climb, docs/chaos.md).
/// </summary>
public sealed class StampedTrackingTests
{
    [Fact]
    public void Plain_writes_applied_without_any_snapshot_read_are_not_kept_by_the_leader()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;

        const int writes = 300;
        for (int i = 0; i < writes; i++)
        {
            // Distinct keys, as a loading client writes them: the per-key record must not keep them either.
            var write = group.Core.WriteAsync(Put($"key-{i}", "v"));
            group.Settle();
            answered = group.AnswerAll(answered);
            Assert.Equal(NoKvErrorCode.Ok, group.Run(write).Code);
        }

        // Every write above is applied; what is still tracked is at most the last one (forgotten at the next write).
        Assert.True(group.Core.IsLeader);
        Assert.InRange(group.Core.TrackedStampedWrites, 0, 1);
    }

    [Fact]
    public void A_stamped_write_not_yet_applied_stays_tracked_until_it_applies()
    {
        using var group = new ScriptedGroup();
        group.ElectSelf();
        int answered = group.Sent.Count;
        var first = group.Core.WriteAsync(Put("a", "1"));
        group.Settle();
        answered = group.AnswerAll(answered);
        Assert.Equal(NoKvErrorCode.Ok, group.Run(first).Code);

        // Two writes proposed and not acknowledged by any follower: neither is applied, so both stay tracked (a
        // snapshot read of their keys must wait for them); the applied one before them is forgotten.
        var pending = new[] { group.Core.WriteAsync(Put("b", "2")), group.Core.WriteAsync(Put("c", "3")) };
        group.Settle();
        Assert.All(pending, p => Assert.False(p.IsCompleted));
        Assert.Equal(2, group.Core.TrackedStampedWrites);

        group.AnswerAll(answered);
        Assert.All(pending, p => Assert.Equal(NoKvErrorCode.Ok, group.Run(p).Code));
    }

    private static WriteRequest Put(string key, string value) => new()
    {
        Shard = new ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = Encoding.UTF8.GetBytes(key),
        Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };
}
