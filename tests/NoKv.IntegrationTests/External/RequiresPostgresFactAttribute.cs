using Xunit;

namespace NoKv.IntegrationTests.External;

/// <summary>A fact that needs Debian's PostgreSQL 15 server binaries; skipped, saying so, where they are not installed.</summary>
public sealed class RequiresPostgresFactAttribute : FactAttribute
{
    public RequiresPostgresFactAttribute()
    {
        if (ExternalTool.Postgres is null)
        {
            Skip = $"PostgreSQL 15 is not installed ({ExternalTool.PostgresBin}; apt-get install postgresql-15; .ci/run installs it).";
        }
    }
}
