namespace NoKv.Benchmarks.Cluster;

/// <summary>The Prometheus text each silo serves at /metrics, fetched for the benchmark's counter readings.</summary>
public static class SiloMetricsText
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>The lines of every silo at <paramref name="httpPorts"/> that answered; Complete is false if one did not.</summary>
    public static async Task<(List<string> Lines, bool Complete)> ReadAsync(IReadOnlyList<int> httpPorts, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        bool complete = true;
        foreach (int port in httpPorts)
        {
            try
            {
                string text = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"), cancellationToken).ConfigureAwait(false);
                lines.AddRange(text.Split('\n'));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                complete = false;
            }
        }

        return (lines, complete);
    }
}
