using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Routing;

/// <summary>
/// A replica's WrongShard answer names the shards that now cover the range the client routed by; the router puts
/// them into its map when they cover that range exactly with newer epochs, and otherwise leaves the map to the
/// controller (docs/cluster.md, "Routing after a split").
/// </summary>
public sealed class ShardRouterLearningTests
{
    private readonly ManualTimeProvider _clock = new();
    private readonly FakeShardMapGrain _mapGrain = new(FakeShardMapGrain.Map(3, [1, 2, 3], [1, 2, 3]));
    private readonly ShardRouter _router;

    public ShardRouterLearningTests()
    {
        var grains = new FakeGrainFactory(replicas: new FakeReplicas().Grain, map: () => _mapGrain);
        _router = new ShardRouter(grains, new StoreRoutes(grains, null, TimeSpan.FromSeconds(1), _clock), new StoreHealth(_clock, TimeSpan.FromSeconds(1)), TimeSpan.FromMilliseconds(1500), _clock);
    }

    [Fact]
    public async Task A_split_shard_is_replaced_by_its_halves_and_keys_route_to_the_new_shard_at_once()
    {
        var map = await _router.GetMapAsync(CancellationToken.None);
        var routed = map.Shards[1]; // [0x80, end), epoch 1
        var (left, right) = Halves(routed, 0xC0, new ShardId(9));

        Assert.True(_router.TryLearn(routed, [left, right]));

        var learned = await _router.GetMapAsync(CancellationToken.None);
        Assert.Equal(map.Version, learned.Version);
        Assert.Equal([1L, 2L, 9L], learned.Shards.Select(s => s.Id.Value));
        Assert.Equal(new ShardId(9), learned.FindShard([0xD0]).Id);
        Assert.Equal(left, learned.FindShard([0x90]));
        Assert.Same(map.Shards[0], learned.Shards[0]);
        Assert.Equal(1, _router.LearnedSplits);
    }

    [Fact]
    public async Task Descriptors_that_do_not_cover_the_routed_shard_exactly_with_newer_epochs_are_not_taken()
    {
        var map = await _router.GetMapAsync(CancellationToken.None);
        var routed = map.Shards[1];
        var (left, right) = Halves(routed, 0xC0, new ShardId(9));
        var olderLeft = new ShardDescriptor(left.Id, left.Range, routed.Epoch, left.ConfVersion, left.Peers);
        var merged = new ShardDescriptor(routed.Id, new KeyRange([0x40], []), routed.Epoch + 1, 1, routed.Peers);

        Assert.False(_router.TryLearn(routed, null));
        Assert.False(_router.TryLearn(routed, []));
        Assert.False(_router.TryLearn(routed, [left]));                   // half the range: the rest is unknown
        Assert.False(_router.TryLearn(routed, [right, left]));            // not from the routed shard's start
        Assert.False(_router.TryLearn(routed, [olderLeft, right]));       // not newer than what the map has
        Assert.False(_router.TryLearn(routed, [merged]));                 // a merge reaches past the routed shard
        Assert.Same(map, await _router.GetMapAsync(CancellationToken.None));
        Assert.Equal(0, _router.LearnedSplits);
    }

    [Fact]
    public async Task A_fetched_map_replaces_a_learned_one_so_a_wrong_guess_never_outlives_a_refresh()
    {
        var map = await _router.GetMapAsync(CancellationToken.None);
        var routed = map.Shards[1];
        var (left, right) = Halves(routed, 0xC0, new ShardId(9));
        Assert.True(_router.TryLearn(routed, [left, right]));
        var learned = await _router.GetMapAsync(CancellationToken.None);

        var fetched = await _router.RefreshAsync(learned, CancellationToken.None);

        Assert.Equal(map.Version, fetched.Version);
        Assert.Equal([1L, 2L], fetched.Shards.Select(s => s.Id.Value));
    }

    [Fact]
    public async Task A_second_caller_with_the_same_stale_descriptor_routes_again_without_changing_the_map_twice()
    {
        var map = await _router.GetMapAsync(CancellationToken.None);
        var routed = map.Shards[1];
        var (left, right) = Halves(routed, 0xC0, new ShardId(9));
        Assert.True(_router.TryLearn(routed, [left, right]));
        var learned = await _router.GetMapAsync(CancellationToken.None);

        Assert.True(_router.TryLearn(routed, [left, right]));

        Assert.Same(learned, await _router.GetMapAsync(CancellationToken.None));
        Assert.Equal(1, _router.LearnedSplits);
    }

    private static (ShardDescriptor Left, ShardDescriptor Right) Halves(ShardDescriptor shard, byte at, ShardId newShard)
    {
        long epoch = shard.Epoch + 1;
        var left = new ShardDescriptor(shard.Id, new KeyRange(shard.Range.Start, [at]), epoch, shard.ConfVersion, shard.Peers);
        var peers = shard.Peers.Select(p => new PeerDescriptor(p.PeerId + 100, p.Store, p.Role)).ToArray();
        var right = new ShardDescriptor(newShard, new KeyRange([at], shard.Range.End), epoch, shard.ConfVersion, peers);
        return (left, right);
    }
}
