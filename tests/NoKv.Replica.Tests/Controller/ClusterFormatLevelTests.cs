using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands;
using NoKv.Replica.Controller;
using Xunit;

namespace NoKv.Replica.Tests.Controller;

/// <summary>
/// The cluster's command format level (docs/format-commands.md, "Gate"): the lowest level among the recorded stores
/// that are not removed, a silent one counting as the base level.
/// </summary>
public sealed class ClusterFormatLevelTests
{
    [Fact]
    public void Every_store_on_this_build_puts_the_cluster_at_this_builds_level()
    {
        var level = ClusterFormatLevel.Compute([Store(1), Store(2), Store(3)], [Beat(1, CommandFormatLevel.Current), Beat(2, CommandFormatLevel.Current), Beat(3, CommandFormatLevel.Current)]);
        Assert.Equal(CommandFormatLevel.Current, level);
    }

    [Fact]
    public void One_store_of_a_build_before_levels_holds_the_cluster_at_the_base_level()
    {
        // Its heartbeat carries no level (0): it reads the base commands only.
        var level = ClusterFormatLevel.Compute([Store(1), Store(2), Store(3)], [Beat(1, CommandFormatLevel.Current), Beat(2, 0), Beat(3, CommandFormatLevel.Current)]);
        Assert.Equal(CommandFormatLevel.Base, level);
    }

    [Fact]
    public void A_recorded_store_not_heard_from_holds_the_cluster_at_the_base_level_whatever_its_state()
    {
        // A down store may come back on any build; so may one being decommissioned.
        Assert.Equal(CommandFormatLevel.Base, ClusterFormatLevel.Compute([Store(1), Store(2), Store(3, StoreState.Down)], [Beat(1, CommandFormatLevel.Current), Beat(2, CommandFormatLevel.Current)]));
        Assert.Equal(CommandFormatLevel.Base, ClusterFormatLevel.Compute([Store(1), Store(2, StoreState.Decommissioning)], [Beat(1, CommandFormatLevel.Current)]));

        // A controller that has just started has heard nobody yet.
        Assert.Equal(CommandFormatLevel.Base, ClusterFormatLevel.Compute([Store(1), Store(2), Store(3)], []));
    }

    [Fact]
    public void A_removed_store_does_not_count()
    {
        var level = ClusterFormatLevel.Compute([Store(1), Store(2), Store(3, StoreState.Removed)], [Beat(1, CommandFormatLevel.Current), Beat(2, CommandFormatLevel.Current)]);
        Assert.Equal(CommandFormatLevel.Current, level);
    }

    [Fact]
    public void A_store_heard_but_not_yet_recorded_counts()
    {
        // A store joining on an older build is heard before its row is committed.
        var level = ClusterFormatLevel.Compute([Store(1), Store(2)], [Beat(1, CommandFormatLevel.Current), Beat(2, CommandFormatLevel.Current), Beat(4, 0)]);
        Assert.Equal(CommandFormatLevel.Base, level);
    }

    private static StoreRecord Store(int id, StoreState state = StoreState.Up) => new(new StoreId(id), state, 0, 0, 0, $"127.0.0.1:{11110 + id}");

    private static StoreHeartbeat Beat(int store, int level) => new(new StoreId(store), $"127.0.0.1:{11110 + store}", 100, 50, 10, [], FormatLevel: level);
}
