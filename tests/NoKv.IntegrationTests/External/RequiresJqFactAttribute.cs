using Xunit;

namespace NoKv.IntegrationTests.External;

/// <summary>A fact that runs deploy/ scripts needing jq; skipped, saying so, where jq is not installed.</summary>
public sealed class RequiresJqFactAttribute : FactAttribute
{
    public RequiresJqFactAttribute()
    {
        if (ExternalTool.Jq is null)
        {
            Skip = "jq is not installed (apt-get install jq; .ci/run installs it); deploy/rolling-restart.sh needs it.";
        }
    }
}
