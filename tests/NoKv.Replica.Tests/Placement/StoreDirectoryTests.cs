using System.Net;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Xunit;

namespace NoKv.Replica.Tests.Placement;

/// <summary>
/// <see cref="StoreDirectory"/> when Orleans' silo-metadata cache lacks a live silo (its one ask failed and it does not
/// ask again until membership changes): the store is learned by asking the silo, and placement finds it.
/// </summary>
public sealed class StoreDirectoryTests
{
    private static readonly SiloAddress SiloA = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress SiloB = SiloAddress.New(IPAddress.Loopback, 11112, 1);
    private static readonly SiloAddress SiloBRestarted = SiloAddress.New(IPAddress.Loopback, 11112, 2);

    [Fact]
    public void A_live_silo_the_metadata_cache_lacks_is_unresolved_until_learned_and_then_found()
    {
        var oracle = new FakeSiloStatusOracle();
        oracle.Statuses[SiloA] = SiloStatus.Active;
        oracle.Statuses[SiloB] = SiloStatus.Active;
        var directory = new StoreDirectory(new EmptyMetadataCache(), oracle);

        Assert.Null(directory.FindSilo(new StoreId(2), [SiloA, SiloB]));
        Assert.Equal([SiloA, SiloB], directory.Unresolved().OrderBy(s => s.Endpoint.Port));

        directory.Learn(SiloB, new StoreId(2));

        Assert.Equal(SiloB, directory.FindSilo(new StoreId(2), [SiloA, SiloB]));
        Assert.Equal(SiloB, directory.FindActiveSilo(new StoreId(2)));
        Assert.Equal([SiloA], directory.Unresolved());
    }

    [Fact]
    public void What_was_learned_about_a_dead_or_departed_silo_is_forgotten_and_never_names_its_successor()
    {
        var oracle = new FakeSiloStatusOracle();
        oracle.Statuses[SiloA] = SiloStatus.Active;
        oracle.Statuses[SiloB] = SiloStatus.Active;
        var directory = new StoreDirectory(new EmptyMetadataCache(), oracle);
        directory.Learn(SiloA, new StoreId(1));
        directory.Learn(SiloB, new StoreId(2));

        // Store 2's silo dies and restarts under a new generation; store 1's silo leaves the table.
        oracle.Statuses[SiloB] = SiloStatus.Dead;
        oracle.Statuses[SiloBRestarted] = SiloStatus.Active;
        oracle.Statuses.Remove(SiloA);
        directory.ForgetDeparted();

        Assert.Null(directory.StoreOf(SiloA));
        Assert.Null(directory.StoreOf(SiloB));
        Assert.Null(directory.FindActiveSilo(new StoreId(2)));
        Assert.Equal([SiloBRestarted], directory.Unresolved());
    }

    private sealed class EmptyMetadataCache : ISiloMetadataCache
    {
        public SiloMetadata GetSiloMetadata(SiloAddress siloAddress) => SiloMetadata.Empty;
    }
}
