using Xunit;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>A fact that mounts file systems (a small tmpfs to fill); skipped, saying so, unless it runs as root on Linux.</summary>
public sealed class RequiresRootFactAttribute : FactAttribute
{
    public RequiresRootFactAttribute()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            Skip = "needs root on Linux to mount a tmpfs (CI runs as root).";
        }
    }
}
