using Microsoft.Extensions.DependencyInjection;
using NoKv.IntegrationTests.Infrastructure;
using Orleans.Runtime;
using Orleans.Storage;
using Xunit;

namespace NoKv.IntegrationTests.Cluster;

/// <summary>The engine-backed Orleans grain storage provider: read/write/clear round trips and ETag conflicts.</summary>
public sealed class GrainStorageTests
{
    [Fact]
    public async Task StateRoundTripsAndStaleETagsAreRejected()
    {
        await using var cluster = await TestNoKvCluster.StartAsync(silos: 3, shards: 1);
        var storage = cluster.SiloOf(new NoKv.Abstractions.Sharding.StoreId(1)).ServiceProvider.GetRequiredKeyedService<IGrainStorage>(TestNoKvCluster.GrainStorageName);
        var grainId = GrainId.Create("test-grain", "g1");

        var fresh = new GrainState<List<string>>();
        await storage.ReadStateAsync("items", grainId, fresh);
        Assert.False(fresh.RecordExists);
        Assert.Empty(fresh.State!);

        fresh.State = ["a", "b"];
        await storage.WriteStateAsync("items", grainId, fresh);
        Assert.True(fresh.RecordExists);
        Assert.NotNull(fresh.ETag);

        var read = new GrainState<List<string>>();
        await storage.ReadStateAsync("items", grainId, read);
        Assert.Equal(["a", "b"], read.State);
        Assert.Equal(fresh.ETag, read.ETag);

        // A writer holding an old ETag loses.
        read.State = ["c"];
        await storage.WriteStateAsync("items", grainId, read);
        fresh.State = ["stale"];
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("items", grainId, fresh));

        var again = new GrainState<List<string>>();
        await storage.ReadStateAsync("items", grainId, again);
        Assert.Equal(["c"], again.State);

        await storage.ClearStateAsync("items", grainId, again);
        var cleared = new GrainState<List<string>>();
        await storage.ReadStateAsync("items", grainId, cleared);
        Assert.False(cleared.RecordExists);
    }
}
