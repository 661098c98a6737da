using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using Xunit;

namespace NoKv.Replica.Tests.Controller;

/// <summary>
/// The controller's status-collection point (docs/transactions.md, "GC"): the minimum over every shard of the map of the
/// lock-free points reported at the shard's map epoch; any shard without one stalls it at 0.
/// </summary>
public sealed class StatusCollectionPointTests
{
    private static readonly ShardDescriptor Left = Shard(1, "", "m", epoch: 3);
    private static readonly ShardDescriptor Right = Shard(2, "m", "", epoch: 1);

    [Fact]
    public void The_point_is_the_minimum_over_every_shard_at_its_map_epoch()
    {
        var point = StatusCollectionPoint.Compute([Left, Right], [Beat(1, (1, 500, 3)), Beat(2, (2, 300, 1))]);
        Assert.Equal(300, point);
    }

    [Fact]
    public void A_shard_that_has_not_reported_stalls_collection()
    {
        Assert.Equal(0, StatusCollectionPoint.Compute([Left, Right], [Beat(1, (1, 500, 3))]));
        Assert.Equal(0, StatusCollectionPoint.Compute([Left, Right], []));
        Assert.Equal(0, StatusCollectionPoint.Compute([], [Beat(1, (1, 500, 3))]));
    }

    [Fact]
    public void A_report_at_another_epoch_than_the_maps_does_not_count()
    {
        // Shard 1 reported at epoch 2, before a merge gave it epoch 3 (and the source's locks): its old finding says
        // nothing about the merged range. A report from a newer epoch than the map's waits until the map has it.
        Assert.Equal(0, StatusCollectionPoint.Compute([Left, Right], [Beat(1, (1, 900, 2)), Beat(2, (2, 300, 1))]));
        Assert.Equal(0, StatusCollectionPoint.Compute([Left, Right], [Beat(1, (1, 900, 4)), Beat(2, (2, 300, 1))]));
    }

    [Fact]
    public void The_best_report_at_the_right_epoch_counts_whichever_store_sent_it()
    {
        // A former leader still reports its (true) finding; the new leader's later one is higher.
        var point = StatusCollectionPoint.Compute([Left, Right], [Beat(1, (1, 400, 3), (2, 700, 1)), Beat(2, (1, 600, 3)), Beat(3, (2, 200, 1))]);
        Assert.Equal(600, point);
    }

    private static ShardDescriptor Shard(long id, string start, string end, long epoch) =>
        new(new ShardId(id), new KeyRange(System.Text.Encoding.UTF8.GetBytes(start), System.Text.Encoding.UTF8.GetBytes(end)), epoch, 1,
            [new PeerDescriptor((ulong)id << 8, new StoreId(1), PeerRole.Voter)]);

    private static StoreHeartbeat Beat(int store, params (long Shard, long Point, long Epoch)[] reports) =>
        new(new StoreId(store), "addr", 0, 0, 0,
            reports.Select(r => new ShardStats(new ShardId(r.Shard), false, r.Epoch, 1, 0, 0, 0, null, null, r.Point, r.Epoch)).ToArray());
}
