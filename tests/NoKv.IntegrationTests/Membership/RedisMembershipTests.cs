using Microsoft.Extensions.Hosting;
using NoKv.IntegrationTests.External;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Membership;

/// <summary>deploy/appsettings.redis.json against a real redis-server (Microsoft.Orleans.Clustering.Redis).</summary>
public sealed class RedisMembershipTests(ITestOutputHelper output)
{
    [RequiresRedisFact]
    public async Task Three_silos_from_the_redis_example_config_form_a_cluster_and_verify_clean()
    {
        using var redis = await RedisServer.StartAsync();
        using var scenario = new ExternalMembershipScenario(output, "appsettings.redis.json", redis.ConnectionString, c => c.UseRedisClustering(redis.ConnectionString), killAndRestart: false);
        await scenario.RunAsync();
    }
}
