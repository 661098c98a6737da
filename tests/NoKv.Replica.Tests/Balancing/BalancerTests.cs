using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using NoKv.Replica.Controller.Balancing;
using Xunit;

namespace NoKv.Replica.Tests.Balancing;

/// <summary>
/// The balance scheduler against a model cluster on a fake clock: decisions are applied as the operations would
/// (instantly, or after some rounds in flight), and the tests check that leaders and replicas even out, that the
/// balancer then stays quiet (no flapping), and that splits start by size and by sustained load only.
/// </summary>
public sealed class BalancerTests
{
    private static readonly StoreId S1 = new(1), S2 = new(2), S3 = new(3), S4 = new(4);

    [Fact]
    public void Leaders_preferred_by_one_store_spread_evenly_and_then_nothing_moves()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 12, firstVoter: _ => 0);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(5) });

        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 200);

        Assert.True(rounds < 200, "the balancer did not converge");
        Assert.Equal([4, 4, 4], cluster.PreferredCounts([S1, S2, S3]));
        Assert.Equal(8, cluster.Transfers);
        Assert.Equal(0, cluster.Moves);
        AssertQuiet(cluster, balancer, rounds: 100);
    }

    [Fact]
    public void Stores_one_apart_are_left_alone()
    {
        // 7 shards over 3 stores: 3, 2, 2 preferred leaders is as even as it gets.
        var cluster = new ModelCluster([S1, S2, S3], shards: 7, firstVoter: i => i % 3);
        var balancer = new Balancer(new BalancerOptions());

        AssertQuiet(cluster, balancer, rounds: 50);
        Assert.Equal(0, cluster.Transfers);
    }

    [Fact]
    public void A_new_store_receives_replicas_and_leaders_until_it_holds_its_share()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 8, firstVoter: i => i % 3);
        cluster.AddStore(S4);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(5) });

        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 400, operationRounds: 3);

        Assert.True(rounds < 400, "the balancer did not converge");
        Assert.Equal([6, 6, 6, 6], cluster.ReplicaCounts([S1, S2, S3, S4]));
        Assert.Equal(6, cluster.Moves);
        var leaders = cluster.PreferredCounts([S1, S2, S3, S4]);
        Assert.Equal(2, leaders[3]);
        Assert.True(leaders.Max() - leaders.Min() <= 1, $"preferred leaders {string.Join(",", leaders)}");
        Assert.All(cluster.Shards, s => Assert.Equal(3, s.Replicas.Length));
        AssertQuiet(cluster, balancer, rounds: 100);
    }

    [Fact]
    public void At_most_the_in_flight_limits_run_at_once()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 12, firstVoter: _ => 0);
        cluster.AddStore(S4);
        var balancer = new Balancer(new BalancerOptions { MaxLeaderTransfers = 2, MaxReplicaMoves = 1 });

        for (int round = 0; round < 60; round++)
        {
            cluster.Round(balancer, operationRounds: 4);
            Assert.True(cluster.InFlight.Count(o => o.Kind == OperationKind.TransferLeader) <= 2);
            Assert.True(cluster.InFlight.Count(o => o.Kind == OperationKind.MoveReplica) <= 1);
            Assert.True(cluster.InFlight.Select(o => o.Shard).Distinct().Count() == cluster.InFlight.Count, "two operations on one shard");
        }
    }

    [Fact]
    public void A_shard_is_not_touched_again_within_its_cooldown()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 3, firstVoter: _ => 0);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(30), MaxLeaderTransfers = 1 });
        var decision = Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 0, 8));
        Assert.Equal(OperationKind.TransferLeader, decision.Kind);
        cluster.Apply(decision);

        // Undone behind the balancer's back: within the cooldown the shard is left as it is (another one moves).
        cluster.Prefer(decision.Shard, S1);
        var again = balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 29_000, 8);
        Assert.DoesNotContain(again, d => d.Shard == decision.Shard);
        Assert.NotEmpty(again);
        Assert.Contains(balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 60_000, 8), d => d.Shard == decision.Shard);
    }

    [Fact]
    public void A_shard_whose_preferred_store_is_down_gets_an_up_preferred_leader()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 3, firstVoter: i => i);
        cluster.SetState(S2, StoreState.Down);
        var balancer = new Balancer(new BalancerOptions { ReplicaBalance = false });

        var decisions = balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 0, 8);

        var transfer = Assert.Single(decisions);
        Assert.Equal(OperationKind.TransferLeader, transfer.Kind);
        Assert.Equal(cluster.Shards[1].Id, transfer.Shard);
        Assert.Equal(S2, transfer.From);
        Assert.NotEqual(S2, transfer.To);
    }

    [Fact]
    public void A_store_with_a_slow_disk_loses_its_leader_preferences_and_gets_them_back_once_it_recovers()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 6, firstVoter: i => i % 3);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(5) });
        cluster.Slow.Add(S2);

        var first = balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 0, 8, cluster.Slow);
        Assert.Contains(first, d => d.Kind == OperationKind.TransferLeader && d.From == S2 && d.Reason.Contains("slow disk", StringComparison.Ordinal));
        Assert.DoesNotContain(first, d => d.To == S2);
        foreach (var decision in first)
        {
            cluster.Apply(decision);
        }

        Assert.True(cluster.RunUntilQuiet(balancer, maxRounds: 200) < 200, "the balancer did not settle with a slow store");
        Assert.Equal(0, cluster.PreferredCounts([S2])[0]);
        Assert.Equal([3, 3], cluster.PreferredCounts([S1, S3]));
        Assert.Equal([6, 6, 6], cluster.ReplicaCounts([S1, S2, S3]));
        AssertQuiet(cluster, balancer, rounds: 30);

        cluster.Slow.Clear();
        Assert.True(cluster.RunUntilQuiet(balancer, maxRounds: 200) < 200, "the balancer did not settle after the disk recovered");
        Assert.Equal([2, 2, 2], cluster.PreferredCounts([S1, S2, S3]));
    }

    [Fact]
    public void A_new_store_with_a_slow_disk_receives_no_replicas_until_it_recovers()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 8, firstVoter: i => i % 3);
        cluster.AddStore(S4);
        cluster.Slow.Add(S4);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(5) });

        Assert.True(cluster.RunUntilQuiet(balancer, maxRounds: 200, operationRounds: 3) < 200, "the balancer did not settle");
        Assert.Equal(0, cluster.Moves);
        Assert.Equal([0, 0], [cluster.ReplicaCounts([S4])[0], cluster.PreferredCounts([S4])[0]]);

        cluster.Slow.Clear();
        Assert.True(cluster.RunUntilQuiet(balancer, maxRounds: 400, operationRounds: 3) < 400, "the balancer did not converge after the disk recovered");
        Assert.Equal([6, 6, 6, 6], cluster.ReplicaCounts([S1, S2, S3, S4]));
    }

    [Fact]
    public void When_every_store_is_slow_leaders_are_balanced_as_if_none_were()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 12, firstVoter: _ => 0);
        cluster.Slow.UnionWith([S1, S2, S3]);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(5) });

        Assert.True(cluster.RunUntilQuiet(balancer, maxRounds: 200) < 200, "the balancer did not converge");
        Assert.Equal([4, 4, 4], cluster.PreferredCounts([S1, S2, S3]));
    }

    [Fact]
    public void Nothing_is_decided_while_a_store_of_the_map_has_no_row_yet()
    {
        // Seeding writes the map before the store rows: a store without a row is unknown, not down.
        var cluster = new ModelCluster([S1, S2, S3], shards: 6, firstVoter: _ => 0);
        var stores = cluster.Stores.Where(s => s.Key != S2).ToDictionary(s => s.Key, s => s.Value);
        var balancer = new Balancer(new BalancerOptions());

        Assert.Empty(balancer.Plan(cluster.Shards, stores, [], Empty, 0, 8));
        Assert.NotEmpty(balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 0, 8));
    }

    [Fact]
    public void Replicas_do_not_move_while_a_down_store_still_holds_replicas()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 6, firstVoter: i => i % 3);
        cluster.AddStore(S4);
        cluster.SetState(S3, StoreState.Down);
        var balancer = new Balancer(new BalancerOptions());

        var decisions = balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, 0, 8);

        Assert.DoesNotContain(decisions, d => d.Kind == OperationKind.MoveReplica);
    }

    [Fact]
    public void Switched_off_it_decides_nothing()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 12, firstVoter: _ => 0);
        cluster.AddStore(S4);
        var balancer = new Balancer(new BalancerOptions { LeaderBalance = false, ReplicaBalance = false, AutoSplit = false });
        var samples = cluster.Shards.ToDictionary(s => s.Id, s => new ShardSample(s.Id, s.Epoch, 1L << 40, 1e9));

        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 0, 8));
    }

    [Fact]
    public void A_shard_at_the_size_threshold_splits_once_and_figures_from_before_its_split_are_ignored()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 3, firstVoter: i => i);
        var balancer = new Balancer(new BalancerOptions { SplitBytes = 1000, AutoMerge = false, LeaderBalance = false, ReplicaBalance = false });
        var big = cluster.Shards[1];
        var samples = new Dictionary<ShardId, ShardSample>
        {
            [cluster.Shards[0].Id] = new(cluster.Shards[0].Id, 1, 999, 0),
            [big.Id] = new(big.Id, 1, 1000, 0),
            [cluster.Shards[2].Id] = new(cluster.Shards[2].Id, 1, null, 0),
        };

        var split = Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 0, 8));
        Assert.Equal((OperationKind.Split, big.Id), (split.Kind, split.Shard));
        Assert.Contains("1000 bytes", split.ToString());

        // In flight: no second split of anything (MaxSplits 1), and not this shard again.
        var inFlight = new OperationRecord(1, OperationKind.Split, big.Id, 1, null, null, 0, 0, 0, []);
        samples[cluster.Shards[0].Id] = new(cluster.Shards[0].Id, 1, 5000, 0);
        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [inFlight], samples, 1000, 8));

        // Done: the left half is at epoch 2, but its leader's last heartbeat still reports the whole shard at epoch 1.
        cluster.Split(big.Id);
        var after = balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 60_000, 8);
        Assert.DoesNotContain(after, d => d.Shard == big.Id);
        Assert.Contains(after, d => d.Shard == cluster.Shards[0].Id);
    }

    [Fact]
    public void A_shard_splits_by_load_only_after_a_whole_window_above_the_rate()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 1, firstVoter: _ => 0);
        var balancer = new Balancer(new BalancerOptions { SplitRequestsPerSecond = 100, SplitLoadWindow = TimeSpan.FromSeconds(10), AutoMerge = false, LeaderBalance = false, ReplicaBalance = false });
        var id = cluster.Shards[0].Id;
        List<BalanceDecision> At(long ms, double rate) =>
            balancer.Plan(cluster.Shards, cluster.Stores, [], new Dictionary<ShardId, ShardSample> { [id] = new(id, 1, 10, rate) }, ms, 8);

        Assert.Empty(At(0, 150));
        Assert.Empty(At(6_000, 150));
        Assert.Empty(At(8_000, 50)); // a dip starts the window over
        Assert.Empty(At(10_000, 150));
        Assert.Empty(At(19_000, 150));
        var split = Assert.Single(At(20_000, 150));
        Assert.Equal(OperationKind.Split, split.Kind);
        Assert.Contains("requests/s", split.Reason);
    }

    [Fact]
    public void A_load_split_cuts_at_the_key_the_leader_reported_halving_its_load_and_at_the_size_middle_without_one()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 1, firstVoter: _ => 0);
        var options = new BalancerOptions { SplitRequestsPerSecond = 100, SplitLoadWindow = TimeSpan.FromSeconds(10), AutoMerge = false, LeaderBalance = false, ReplicaBalance = false };
        var shard = cluster.Shards[0];
        byte[] middle = "user/0042"u8.ToArray();
        BalanceDecision Split(byte[]? reported)
        {
            var balancer = new Balancer(options);
            var samples = new Dictionary<ShardId, ShardSample> { [shard.Id] = new(shard.Id, 1, 10, 500, reported) };
            Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 0, 8));
            return Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 10_000, 8));
        }

        var atLoad = Split(middle);
        Assert.Equal(middle, atLoad.SplitKey);
        Assert.Contains("at the load's middle key", atLoad.Reason);
        Assert.Contains(Convert.ToHexString(middle), atLoad.ToString());

        // No key reported: the replica cuts by size.
        Assert.Null(Split(null).SplitKey);
        Assert.Contains("middle by size", Split(null).Reason);

        // The leader found its load on one key (an empty key): no split by load at all, however long it stays hot.
        var oneKey = new Balancer(options);
        var concentrated = new Dictionary<ShardId, ShardSample> { [shard.Id] = new(shard.Id, 1, 10, 500, []) };
        Assert.Empty(oneKey.Plan(cluster.Shards, cluster.Stores, [], concentrated, 0, 8));
        Assert.Empty(oneKey.Plan(cluster.Shards, cluster.Stores, [], concentrated, 60_000, 8));

        // A split by size never takes the load key: the bytes decide where.
        var bySize = new Balancer(new BalancerOptions { SplitBytes = 100, SplitRequestsPerSecond = 100, AutoMerge = false, LeaderBalance = false, ReplicaBalance = false });
        var big = new Dictionary<ShardId, ShardSample> { [shard.Id] = new(shard.Id, 1, 1000, 500, middle) };
        Assert.Null(Assert.Single(bySize.Plan(cluster.Shards, cluster.Stores, [], big, 0, 8)).SplitKey);
    }

    [Fact]
    public void Without_a_load_key_in_its_range_a_hot_shard_splits_between_its_hot_keys_when_they_carry_its_load()
    {
        // One shard over the whole key space serving 500 requests/s; the leader's load key is missing (an older build)
        // or stale (outside the range), but the stores' hot-key lists name where the load is.
        var cluster = new ModelCluster([S1, S2, S3], shards: 1, firstVoter: _ => 0);
        var options = new BalancerOptions { SplitRequestsPerSecond = 100, SplitLoadWindow = TimeSpan.FromSeconds(10), AutoMerge = false, LeaderBalance = false, ReplicaBalance = false };
        var shard = cluster.Shards[0];
        cluster.Split(shard.Id); // now [.., 0x01) and [0x01, +inf): the right half is the one under test
        shard = cluster.Shards[1];
        HotKeyRate Hot(string key, double rate) => new(System.Text.Encoding.ASCII.GetBytes(key), rate);
        BalanceDecision? Split(byte[]? reported, params HotKeyRate[] hot)
        {
            var balancer = new Balancer(options);
            var samples = new Dictionary<ShardId, ShardSample> { [shard.Id] = new(shard.Id, shard.Epoch, 10, 500, reported, hot) };
            Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 0, 8));
            return balancer.Plan(cluster.Shards, cluster.Stores, [], samples, 10_000, 8).SingleOrDefault(d => d.Shard == shard.Id);
        }

        // Four hot keys carrying 400 of the 500 requests/s; in key order d 100, f 50, k 150, t 100. Cutting at "k"
        // leaves 150 | 250, nearer halves than at "f" (100 | 300) or at "t" (300 | 100).
        var between = Split(null, Hot("d", 100), Hot("k", 150), Hot("f", 50), Hot("t", 100));
        Assert.NotNull(between);
        Assert.Equal("k"u8.ToArray(), between.SplitKey);
        Assert.Contains("between its hot keys", between.Reason);

        // A stale load key (below the range, from before the split) is not used; the hot keys are.
        Assert.Equal("k"u8.ToArray(), Split([0x00, 0x05], Hot("d", 100), Hot("k", 150), Hot("f", 50), Hot("t", 100))!.SplitKey);

        // A load key inside the range wins over the hot keys.
        Assert.Equal("q"u8.ToArray(), Split("q"u8.ToArray(), Hot("d", 100), Hot("k", 150))!.SplitKey);

        // Hot keys that carry under half the load say little about where its middle is: the middle by size.
        var few = Split(null, Hot("d", 100), Hot("k", 100));
        Assert.Null(few!.SplitKey);
        Assert.Contains("middle by size", few.Reason);

        // One key carries nearly all of them: no cut leaves a fifth on each side, so the middle by size.
        Assert.Null(Split(null, Hot("d", 450), Hot("k", 20))!.SplitKey);

        // Hot keys of other ranges (the left half's, before the split's key) do not count.
        Assert.Null(Split(null, new HotKeyRate([0x00, 0x10], 300), Hot("k", 200))!.SplitKey);
    }

    [Fact]
    public void Small_cold_neighbours_merge_only_after_the_whole_window_the_smaller_into_the_larger()
    {
        var cluster = new ModelCluster([S1, S2, S3], shards: 3, firstVoter: _ => 0);
        var balancer = new Balancer(new BalancerOptions { SplitBytes = 1000, MergeBytes = 400, MergeRequestsPerSecond = 10, MergeColdWindow = TimeSpan.FromSeconds(60), LeaderBalance = false, ReplicaBalance = false });
        var (a, b, c) = (cluster.Shards[0], cluster.Shards[1], cluster.Shards[2]);
        var samples = new Dictionary<ShardId, ShardSample>
        {
            [a.Id] = new(a.Id, 1, 100, 1),
            [b.Id] = new(b.Id, 1, 50, 1),
            [c.Id] = new(c.Id, 1, 900, 1), // too big to merge with anything
        };
        List<BalanceDecision> At(long ms) => balancer.Plan(cluster.Shards, cluster.Stores, [], samples, ms, 8);

        Assert.Empty(At(0));
        Assert.Empty(At(30_000));
        samples[a.Id] = new(a.Id, 1, 100, 50); // a burst of load starts a's window over
        Assert.Empty(At(40_000));
        samples[a.Id] = new(a.Id, 1, 100, 1);
        Assert.Empty(At(50_000));
        Assert.Empty(At(100_000));
        var merge = Assert.Single(At(110_000));
        Assert.Equal((OperationKind.Merge, b.Id, (ShardId?)a.Id), (merge.Kind, merge.Shard, merge.Target));
        Assert.Contains("150 bytes", merge.ToString());

        // In flight: neither shard again, and no second merge (MaxMerges 1).
        var inFlight = new OperationRecord(1, OperationKind.Merge, b.Id, 1, null, null, 0, 0, 0, NoKv.Replica.Controller.Operations.MergeArgument.For(a.Id).Encode());
        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [inFlight], samples, 200_000, 8));
    }

    [Fact]
    public void Split_halves_never_merge_back_and_a_merged_shard_never_splits_again()
    {
        // Hysteresis: merge limits at most half the split limits (validated), so neither undoes the other.
        var cluster = new ModelCluster([S1, S2, S3], shards: 1, firstVoter: _ => 0);
        var options = new BalancerOptions { SplitBytes = 1000, MergeBytes = 500, SplitRequestsPerSecond = 100, MergeRequestsPerSecond = 50, MergeColdWindow = TimeSpan.Zero, ShardCooldown = TimeSpan.Zero, LeaderBalance = false, ReplicaBalance = false };
        var balancer = new Balancer(options);
        var id = cluster.Shards[0].Id;
        var split = Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], new Dictionary<ShardId, ShardSample> { [id] = new(id, 1, 1000, 0) }, 0, 8));
        Assert.Equal(OperationKind.Split, split.Kind);
        cluster.Split(id);

        // Each half holds about half the data: together they are at the split size, far above the merge size.
        var halves = cluster.Shards.ToDictionary(s => s.Id, s => new ShardSample(s.Id, s.Epoch, 501, 0));
        for (long ms = 1_000; ms < 100_000; ms += 1_000)
        {
            Assert.DoesNotContain(balancer.Plan(cluster.Shards, cluster.Stores, [], halves, ms, 8), d => d.Kind is OperationKind.Merge or OperationKind.Split);
        }

        // Once the halves shrink below the merge size together, they merge; the merged shard is under both split limits.
        var small = cluster.Shards.ToDictionary(s => s.Id, s => new ShardSample(s.Id, s.Epoch, 200, 20));
        var merge = Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], small, 200_000, 8));
        Assert.Equal(OperationKind.Merge, merge.Kind);
        Assert.True(400 < options.SplitBytes && 40 < options.SplitRequestsPerSecond);

        Assert.Throws<ArgumentException>(() => new Balancer(new BalancerOptions { SplitBytes = 1000, MergeBytes = 501 }));
        Assert.Throws<ArgumentException>(() => new Balancer(new BalancerOptions { SplitRequestsPerSecond = 100, MergeRequestsPerSecond = 51 }));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Random_clusters_converge_and_stay_quiet(int seed)
    {
        var random = new Random(seed);
        int storeCount = 3 + random.Next(4);
        var stores = Enumerable.Range(1, storeCount).Select(i => new StoreId(i)).ToArray();
        int initial = 3 + random.Next(storeCount - 2);
        var cluster = new ModelCluster(stores[..initial], shards: 1 + random.Next(24), firstVoter: _ => random.Next(3), random);
        foreach (var added in stores[initial..])
        {
            cluster.AddStore(added);
        }

        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(random.Next(0, 10)), LeaderTolerance = 1 + random.Next(2), ReplicaTolerance = 1 + random.Next(2) });
        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 2_000, operationRounds: random.Next(1, 4));

        string context = $"seed {seed}: {storeCount} stores, {cluster.Shards.Count} shards, replicas {string.Join(",", cluster.ReplicaCounts(stores))}, leaders {string.Join(",", cluster.PreferredCounts(stores))}";
        Assert.True(rounds < 2_000, "did not converge: " + context);
        var replicas = cluster.ReplicaCounts(stores);
        Assert.True(replicas.Max() - replicas.Min() <= balancer.Options.ReplicaTolerance, context);
        Assert.True(cluster.Moves + cluster.Transfers <= 4 * cluster.Shards.Count * storeCount, "too many operations for the imbalance: " + context);
        AssertQuiet(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void A_new_store_receives_bytes_not_only_replicas_when_shard_sizes_differ()
    {
        // Two big shards (1,000 MB) and four small ones (10 MB) on three stores; store 4 joins. By counts alone it would
        // take its 4-5 replicas in whatever shards come first; by size it must end holding its share of the bytes.
        StoreId[] all = [S1, S2, S3, S4];
        var cluster = new ModelCluster([S1, S2, S3], shards: 6, firstVoter: i => i % 3);
        foreach (var (shard, i) in cluster.Shards.Select((d, i) => (d, i)))
        {
            cluster.Sizes[shard.Id] = i < 2 ? 1_000L << 20 : 10L << 20;
        }

        cluster.AddStore(S4);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.Zero, LeaderBalance = false, AutoSplit = false, AutoMerge = false });
        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 500, operationRounds: 2);

        var bytes = cluster.StoreBytes(all);
        var counts = cluster.ReplicaCounts(all);
        string context = $"bytes {string.Join(",", bytes.Select(b => b >> 20))} MB, replicas {string.Join(",", counts)}";
        Assert.True(rounds < 500, "did not converge: " + context);
        Assert.True(counts.Max() - counts.Min() <= balancer.Options.ReplicaTolerance + balancer.Options.SizeCountSlack, context);
        Assert.True(bytes[3] >= 1_000L << 20, "store 4 holds none of the big shards: " + context);
        Assert.True(bytes.Max() - bytes.Min() <= 1_010L << 20, context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void Sizes_are_not_balanced_on_a_partial_view_and_stores_within_the_ratio_are_left_alone()
    {
        StoreId[] all = [S1, S2, S3, S4];
        var cluster = new ModelCluster(all, shards: 8, firstVoter: i => i % 4);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.Zero, LeaderBalance = false, AutoSplit = false, AutoMerge = false });
        cluster.RunUntilQuiet(balancer, maxRounds: 500);
        var countsBefore = cluster.ReplicaCounts(all);

        // One shard's size unknown: no size decision at all, whatever the others say.
        foreach (var shard in cluster.Shards.Skip(1))
        {
            cluster.Sizes[shard.Id] = shard.Id.Value == 2 ? 5_000L << 20 : 1L << 20;
        }

        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs + 1_000, 8));

        // Equal sizes: stores holding equal bytes within the ratio stay as they are.
        foreach (var shard in cluster.Shards)
        {
            cluster.Sizes[shard.Id] = 100L << 20;
        }

        var bytes = cluster.StoreBytes(all);
        if (bytes.Max() <= balancer.Options.ReplicaSizeRatio * bytes.Min())
        {
            Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs + 2_000, 8));
        }

        Assert.Equal(countsBefore, cluster.ReplicaCounts(all));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    public void Random_clusters_with_random_sizes_converge_and_stay_quiet_within_the_widened_count_tolerance(int seed)
    {
        var random = new Random(seed);
        int storeCount = 3 + random.Next(4);
        var stores = Enumerable.Range(1, storeCount).Select(i => new StoreId(i)).ToArray();
        int initial = 3 + random.Next(storeCount - 2);
        var cluster = new ModelCluster(stores[..initial], shards: 2 + random.Next(24), firstVoter: _ => random.Next(3), random);
        foreach (var shard in cluster.Shards)
        {
            cluster.Sizes[shard.Id] = (1L + random.Next(2_000)) << 20;
        }

        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(random.Next(0, 5)), LeaderTolerance = 1 + random.Next(2), ReplicaTolerance = 1 + random.Next(2), AutoSplit = false, AutoMerge = false });
        cluster.RunUntilQuiet(balancer, maxRounds: 2_000, operationRounds: random.Next(1, 4));
        foreach (var added in stores[initial..])
        {
            cluster.AddStore(added);
        }

        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 2_000, operationRounds: random.Next(1, 4));

        var bytes = cluster.StoreBytes(stores);
        var replicas = cluster.ReplicaCounts(stores);
        string context = $"seed {seed}: bytes {string.Join(",", bytes.Select(b => b >> 20))} MB, replicas {string.Join(",", replicas)}";
        Assert.True(rounds < 2_000, "did not converge: " + context);
        Assert.True(replicas.Max() - replicas.Min() <= balancer.Options.ReplicaTolerance + balancer.Options.SizeCountSlack, context);
        Assert.True(cluster.Moves <= 6 * cluster.Shards.Count * storeCount, "too many moves: " + context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void A_store_leading_the_hot_shards_hands_one_to_the_idlest_voter_and_then_nothing_moves()
    {
        // Preferences 2/2/2, but both of store 1's shards serve 2,000 requests/s and the rest 10: by counts all is even,
        // by load store 1 serves 4,000 and the others 20. One hot shard must go (to store 2 or 3), and then the balancer
        // must stop: the other hot shard cannot go anywhere without making a store busier than store 1 is left.
        StoreId[] all = [S1, S2, S3];
        var cluster = new ModelCluster(all, shards: 6, firstVoter: i => i % 3);
        foreach (var (shard, i) in cluster.Shards.Select((d, i) => (d, i)))
        {
            cluster.Loads[shard.Id] = i % 3 == 0 ? 2_000 : 10;
        }

        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.Zero, ReplicaBalance = false, AutoSplit = false, AutoMerge = false });
        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 200, operationRounds: 1);

        var loads = cluster.StoreLoads(all);
        var counts = cluster.PreferredCounts(all);
        string context = $"loads {string.Join(",", loads)}, preferred {string.Join(",", counts)}, {cluster.Transfers} transfers";
        Assert.True(rounds < 200, "did not converge: " + context);
        Assert.True(loads.Max() <= 2_020, "store 1 still serves both hot shards: " + context);
        Assert.True(counts.Max() - counts.Min() <= balancer.Options.LeaderTolerance + balancer.Options.LoadCountSlack, context);
        Assert.True(cluster.Transfers == 1, "one transfer evens it; more shuffles cold shards around: " + context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void Load_is_not_balanced_on_a_partial_view_nor_when_the_cluster_is_nearly_idle()
    {
        StoreId[] all = [S1, S2, S3];
        var cluster = new ModelCluster(all, shards: 6, firstVoter: i => i % 3);
        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.Zero, ReplicaBalance = false, AutoSplit = false, AutoMerge = false });

        // One shard's rate unknown: no load decision, however hot store 1's shards are.
        foreach (var (shard, i) in cluster.Shards.Select((d, i) => (d, i)).Skip(1))
        {
            cluster.Loads[shard.Id] = i % 3 == 0 ? 5_000 : 10;
        }

        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs + 1_000, 8));

        // Every rate known but the whole cluster serves less than the minimum: nothing either.
        foreach (var (shard, i) in cluster.Shards.Select((d, i) => (d, i)))
        {
            cluster.Loads[shard.Id] = i % 3 == 0 ? 200 : 1;
        }

        Assert.Empty(balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs + 2_000, 8));
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    [InlineData(24)]
    [InlineData(25)]
    [InlineData(26)]
    public void Random_clusters_with_random_loads_converge_and_stay_quiet_within_the_widened_count_tolerance(int seed)
    {
        var random = new Random(seed);
        int storeCount = 3 + random.Next(4);
        var stores = Enumerable.Range(1, storeCount).Select(i => new StoreId(i)).ToArray();
        var cluster = new ModelCluster(stores, shards: 2 + random.Next(24), firstVoter: _ => random.Next(3), random);
        foreach (var shard in cluster.Shards)
        {
            // A few hot shards among many cold ones, as real key spaces are.
            cluster.Loads[shard.Id] = random.Next(5) == 0 ? 500 + random.Next(5_000) : random.Next(50);
        }

        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(random.Next(0, 5)), LeaderTolerance = 1 + random.Next(2), ReplicaBalance = false, AutoSplit = false, AutoMerge = false });
        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 2_000, operationRounds: random.Next(1, 4));

        var loads = cluster.StoreLoads(stores);
        var counts = cluster.PreferredCounts(stores);
        string context = $"seed {seed}: loads {string.Join(",", loads)}, preferred {string.Join(",", counts)}, {cluster.Transfers} transfers";
        Assert.True(rounds < 2_000, "did not converge: " + context);
        Assert.True(counts.Max() - counts.Min() <= balancer.Options.LeaderTolerance + balancer.Options.LoadCountSlack, context);
        Assert.True(cluster.Transfers <= 4 * cluster.Shards.Count, "too many transfers: " + context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    /// <summary>
    /// Four stores, eight shards on three stores each (shard i on stores i, i+1, i+2), so every store holds six and
    /// store 4 holds neither shard 1 nor shard 5. Those two serve <paramref name="hot"/> requests/s, the rest
    /// <paramref name="cold"/>: stores 1-3 carry both hot shards, store 4 none.
    /// </summary>
    private static ModelCluster HotShardsAwayFromStore4(double hot, double cold)
    {
        var cluster = new ModelCluster([S1, S2, S3, S4], shards: 8, firstVoter: i => i % 4);
        foreach (var shard in cluster.Shards)
        {
            cluster.Loads[shard.Id] = shard.Id.Value is 1 or 5 ? hot : cold;
        }

        Assert.DoesNotContain(cluster.Shards, s => (s.Id.Value is 1 or 5) && s.HasReplicaOn(S4));
        return cluster;
    }

    private static BalancerOptions ReplicaLoadOnly => new() { ShardCooldown = TimeSpan.Zero, LeaderBalance = false, AutoSplit = false, AutoMerge = false };

    [Fact]
    public void A_store_holding_hot_replicas_sheds_one_to_the_idlest_store_and_then_nothing_moves()
    {
        // Stores 1-3 carry 6,040 requests/s of replicas each, store 4 60; counts are even (6 each), so only load speaks.
        StoreId[] all = [S1, S2, S3, S4];
        var cluster = HotShardsAwayFromStore4(hot: 3_000, cold: 10);
        var balancer = new Balancer(ReplicaLoadOnly);

        var first = Assert.Single(balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs + 1_000, 8));
        Assert.Equal(OperationKind.MoveReplica, first.Kind);
        Assert.Equal(S4, first.To);
        Assert.True(first.Shard.Value is 1 or 5, first.ToString());
        Assert.Contains("requests/s", first.Reason);
        balancer.Forget(first.Shard);

        int rounds = cluster.RunUntilQuiet(balancer, maxRounds: 200, operationRounds: 2);
        var loads = cluster.StoreReplicaLoads(all);
        var counts = cluster.ReplicaCounts(all);
        string context = $"replica loads {string.Join(",", loads)}, replicas {string.Join(",", counts)}, {cluster.Moves} moves";
        Assert.True(rounds < 200, "did not converge: " + context);
        // Six hot replicas on four stores go at best 2/2/1/1: store 4 takes one, and no second move can narrow a gap
        // (each hot shard serves as much as what separates the stores then).
        Assert.Equal(1, cluster.Moves);
        Assert.Equal(3_060, loads[3]);
        Assert.True(counts.Max() - counts.Min() <= balancer.Options.ReplicaTolerance + balancer.Options.SizeCountSlack, context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void Equal_replica_loads_move_nothing()
    {
        // Every shard serves the same: every store holds six replicas and 6,000 requests/s.
        var cluster = HotShardsAwayFromStore4(hot: 1_000, cold: 1_000);
        var balancer = new Balancer(ReplicaLoadOnly);
        cluster.RunUntilQuiet(balancer, maxRounds: 100, operationRounds: 1);
        Assert.Equal(0, cluster.Moves);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    [Fact]
    public void Load_differences_under_the_minimum_are_noise_and_move_nothing()
    {
        var balancer = new Balancer(ReplicaLoadOnly);

        // The whole cluster serves about 600 requests/s, however lopsided: under the minimum, nothing.
        var quiet = HotShardsAwayFromStore4(hot: 300, cold: 1);
        AssertQuietWith(quiet, balancer, rounds: 20);

        // 4,000 against 2,400 requests/s: above the ratio, but 1,600 apart, under the 2,000 minimum gap.
        var close = HotShardsAwayFromStore4(hot: 1_200, cold: 400);
        Assert.Equal([4_000, 4_000, 4_000, 2_400], close.StoreReplicaLoads([S1, S2, S3, S4]));
        AssertQuietWith(close, balancer, rounds: 20);

        // The same shape at ten times the rates is a real imbalance.
        var busy = HotShardsAwayFromStore4(hot: 12_000, cold: 4_000);
        Assert.Equal(OperationKind.MoveReplica, Assert.Single(balancer.Plan(busy.Shards, busy.Stores, [], busy.Samples(), 1_000, 8)).Kind);
    }

    [Fact]
    public void Load_moves_never_target_a_slow_or_down_store()
    {
        var cluster = HotShardsAwayFromStore4(hot: 3_000, cold: 10);
        var balancer = new Balancer(ReplicaLoadOnly);
        cluster.Slow.Add(S4);
        AssertQuietWithSlow(cluster, balancer, rounds: 20);

        cluster.Slow.Clear();
        cluster.SetState(S4, StoreState.Down);
        AssertQuietWith(cluster, balancer, rounds: 20);
    }

    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(34)]
    [InlineData(35)]
    [InlineData(36)]
    [InlineData(37)]
    [InlineData(38)]
    public void Random_clusters_with_hot_shards_converge_by_replica_load_move_each_store_once_per_round_and_stay_quiet(int seed)
    {
        // Hot shards among cold ones, on 4-7 stores, with sizes in half the seeds (size and load moves must not undo
        // each other); moves take 1-3 rounds and the moved shard's load goes with it, as it would in the cluster.
        var random = new Random(seed);
        int storeCount = 4 + random.Next(4);
        var stores = Enumerable.Range(1, storeCount).Select(i => new StoreId(i)).ToArray();
        var cluster = new ModelCluster(stores, shards: 4 + random.Next(24), firstVoter: _ => random.Next(3), random);
        bool sized = seed % 2 == 0;
        foreach (var shard in cluster.Shards)
        {
            cluster.Loads[shard.Id] = random.Next(4) == 0 ? 2_000 + random.Next(10_000) : random.Next(100);
            if (sized)
            {
                cluster.Sizes[shard.Id] = (1L + random.Next(500)) << 20;
            }
        }

        var balancer = new Balancer(new BalancerOptions { ShardCooldown = TimeSpan.FromSeconds(random.Next(0, 5)), MaxReplicaMoves = 4, LeaderBalance = false, AutoSplit = false, AutoMerge = false });
        int operationRounds = random.Next(1, 4);
        int rounds = 0, quiet = 0;
        for (; rounds < 2_000 && quiet < 10; rounds++)
        {
            bool acted = cluster.Round(balancer, operationRounds) > 0 || cluster.InFlight.Count > 0;
            quiet = acted ? 0 : quiet + 1;
            var involved = cluster.LastDecisions.Where(d => d.Kind == OperationKind.MoveReplica).SelectMany(d => new[] { d.From!.Value, d.To!.Value }).ToList();
            var loadMoves = cluster.LastDecisions.Where(d => d.Reason.Contains("requests/s", StringComparison.Ordinal)).ToList();
            foreach (var move in loadMoves)
            {
                Assert.True(involved.Count(s => s == move.From) == 1 && involved.Count(s => s == move.To) == 1, $"seed {seed}: a store takes part in two moves in one round: {string.Join("; ", cluster.LastDecisions)}");
            }
        }

        var loads = cluster.StoreReplicaLoads(stores);
        string context = $"seed {seed}: replica loads {string.Join(",", loads.Select(l => l.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}, replicas {string.Join(",", cluster.ReplicaCounts(stores))}, {cluster.Moves} moves";
        Assert.True(rounds < 2_000, "did not converge: " + context);
        Assert.True(cluster.Moves <= 4 * cluster.Shards.Count * storeCount, "too many moves: " + context);
        AssertQuietWith(cluster, balancer, rounds: 50);
    }

    private static void AssertQuietWithSlow(ModelCluster cluster, Balancer balancer, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            cluster.NowMs += 1_000;
            var decisions = balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs, 8, cluster.Slow);
            Assert.True(decisions.Count == 0, $"round {i} decided: {string.Join("; ", decisions)}");
        }
    }

    private static void AssertQuietWith(ModelCluster cluster, Balancer balancer, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            cluster.NowMs += 1_000;
            var decisions = balancer.Plan(cluster.Shards, cluster.Stores, [], cluster.Samples(), cluster.NowMs, 8);
            Assert.True(decisions.Count == 0, $"round {i} after convergence decided: {string.Join("; ", decisions)}");
        }
    }

    private static readonly IReadOnlyDictionary<ShardId, ShardSample> Empty = new Dictionary<ShardId, ShardSample>();

    private static void AssertQuiet(ModelCluster cluster, Balancer balancer, int rounds)
    {
        for (int i = 0; i < rounds; i++)
        {
            cluster.NowMs += 1_000;
            var decisions = balancer.Plan(cluster.Shards, cluster.Stores, [], Empty, cluster.NowMs, 8, cluster.Slow);
            Assert.True(decisions.Count == 0, $"round {i} after convergence decided: {string.Join("; ", decisions)}");
        }
    }
}
