using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>Partition shapes, loss, duplication and in-flight cuts of the simulated network.</summary>
public sealed class SimNetworkTests
{
    [Fact]
    public void SymmetricPartitionSeparatesGroupsAndIsolatesTheUnnamed()
    {
        var p = new NetworkProbe(LinkFaults.Reliable);
        p.Network.Partition([1, 2], [3, 4]);
        Assert.True(p.Network.IsConnected(1, 2));
        Assert.True(p.Network.IsConnected(4, 3));
        Assert.False(p.Network.IsConnected(1, 3));
        Assert.False(p.Network.IsConnected(3, 1));
        Assert.False(p.Network.IsConnected(5, 1));
        Assert.False(p.Network.IsConnected(2, 5));
        p.Network.HealAll();
        Assert.True(p.Network.IsConnected(1, 5));
    }

    [Fact]
    public void OneWayCutBlocksOnlyOneDirection()
    {
        var p = new NetworkProbe(LinkFaults.Reliable);
        p.Network.CutOneWay(1, 2);
        Assert.False(p.Network.Send(1, 2, "lost"));
        Assert.True(p.Network.Send(2, 1, "kept"));
        p.Drain();
        Assert.Equal([(1UL, "kept")], p.Received);
    }

    [Fact]
    public void BridgeSeesBothHalves()
    {
        var p = new NetworkProbe(LinkFaults.Reliable);
        p.Network.Bridge([1, 2], 3, [4, 5]);
        Assert.True(p.Network.IsConnected(1, 3));
        Assert.True(p.Network.IsConnected(3, 5));
        Assert.True(p.Network.IsConnected(5, 3));
        Assert.False(p.Network.IsConnected(2, 4));
        Assert.False(p.Network.IsConnected(5, 1));
    }

    [Fact]
    public void CuttingALinkLosesWhatIsInFlightAndDownReceiversLoseEverything()
    {
        var p = new NetworkProbe(new LinkFaults(0, 0, 10, 10));
        Assert.True(p.Network.Send(1, 2, "in-flight"));
        p.Network.Cut(1, 2);
        p.Down.Add(3);
        Assert.True(p.Network.Send(1, 3, "to-down"));
        p.Drain();
        Assert.Empty(p.Received);
        Assert.Equal(2, p.Network.Dropped);
    }

    [Fact]
    public void LossDuplicationAndReorderingHappenAtRoughlyTheConfiguredRates()
    {
        var p = new NetworkProbe(new LinkFaults(0.2, 0.1, 1, 50));
        for (var i = 0; i < 5000; i++)
        {
            p.Network.Send(1, 2, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        p.Drain();
        Assert.InRange(p.Network.Dropped, 800, 1200);
        Assert.InRange(p.Network.Duplicated, 300, 500);
        var order = p.Received.Select(r => int.Parse(r.Message, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEqual(order.OrderBy(x => x), order);
    }

    [Fact]
    public void SchedulerRunsEventsInTimeThenSchedulingOrder()
    {
        var scheduler = new EventScheduler();
        var seen = new List<string>();
        scheduler.After(5, () => seen.Add("b"));
        scheduler.After(1, () => seen.Add("a"));
        scheduler.After(5, () => seen.Add("c"));
        scheduler.After(5, () => scheduler.After(0, () => seen.Add("d")));
        while (scheduler.RunNext(4))
        {
        }

        Assert.Equal(["a"], seen);
        Assert.Equal(4, scheduler.Now);
        while (scheduler.RunNext(100))
        {
        }

        Assert.Equal(["a", "b", "c", "d"], seen);
    }
}
