using Xunit;

namespace NoKv.IntegrationTests.External;

/// <summary>A fact that needs Debian's redis-server; skipped, saying so, where it is not installed.</summary>
public sealed class RequiresRedisFactAttribute : FactAttribute
{
    public RequiresRedisFactAttribute()
    {
        if (ExternalTool.RedisServer is null)
        {
            Skip = "redis-server is not installed (apt-get install redis-server; .ci/run installs it).";
        }
    }
}
