using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace NoKv.IntegrationTests.Http;

/// <summary>Scrapes every silo's /metrics (Prometheus text) and finds the engine's, the replicas' and Orleans' metrics.</summary>
[Collection(HttpClusterCollection.Name)]
public sealed class PrometheusScrapeTests(HttpClusterFixture cluster)
{
    private static readonly string[] Expected =
    [
        "nokv_replica_requests_total",
        "nokv_replica_request_duration_seconds_bucket",
        "nokv_raft_proposals_total",
        "nokv_raft_commit_duration_seconds_bucket",
        "nokv_raft_append_duration_seconds_bucket",
        "nokv_raft_entries_appended_total",
        "nokv_raft_entries_applied_total",
        "nokv_raft_elections_total",
        "nokv_raft_leader_changes_total",
        "nokv_storage_wal_syncs_total",
        "nokv_storage_wal_written_bytes_total",
        "nokv_storage_user_bytes_written_bytes_total",
        "nokv_storage_flushes_total",
        "nokv_storage_compactions_total",
        "nokv_storage_stall_time_seconds_total",
        "nokv_storage_block_cache_hits_total",
        "nokv_storage_block_cache_misses_total",
        "nokv_storage_level_files",
        "nokv_storage_memtable_size_bytes",
        "orleans_",
    ];

    private static readonly string[] EverySilo =
    [
        "nokv_raft_append_duration_seconds_bucket",
        "nokv_raft_entries_appended_total",
        "nokv_raft_entries_applied_total",
        "nokv_storage_wal_syncs_total",
        "nokv_storage_level_files",
        "nokv_storage_memtable_size_bytes",
        "orleans_",
    ];

    [Fact]
    public async Task Every_silo_serves_the_engine_replica_and_orleans_metrics_and_counts_the_writes()
    {
        const int keys = 64;
        double okWritesBefore = await OkWritesAsync();
        await cluster.WriteAndReadAsync("prom", keys);

        var all = new System.Text.StringBuilder();
        for (int store = 1; store <= 3; store++)
        {
            using var response = await cluster.Http.GetAsync(new Uri(cluster.Base(store), "metrics"));
            response.EnsureSuccessStatusCode();
            Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
            string text = await response.Content.ReadAsStringAsync();
            all.Append(text);

            // Every silo has an engine and replicas that append and apply; which silo answered requests or ran an
            // election depends on where the leaders are, so those names are looked for across all silos below.
            foreach (string name in EverySilo)
            {
                Assert.True(text.Contains(name, StringComparison.Ordinal), $"store {store}'s /metrics has no {name}");
            }

            Assert.Contains($"db=\"store-{store}\"", text);
        }

        foreach (string name in Expected)
        {
            Assert.True(all.ToString().Contains(name, StringComparison.Ordinal), $"no silo's /metrics has {name}");
        }

        // Writes are answered by leaders, which are spread over the stores: the sum over all silos counts each once.
        // The exporter may answer a scrape from its short response cache, so a scrape right after the writes can lag:
        // wait (with a deadline) for the counts to arrive.
        double okWrites = await OkWritesAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (okWrites - okWritesBefore < keys && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200);
            okWrites = await OkWritesAsync();
        }

        Assert.True(okWrites - okWritesBefore >= keys, $"/metrics counted {okWrites - okWritesBefore} ok writes, expected at least {keys}");
    }

    private async Task<double> OkWritesAsync()
    {
        double sum = 0;
        var line = new Regex("^nokv_replica_requests_total\\{[^}]*kind=\"write\"[^}]*result=\"ok\"[^}]*\\} (\\S+)", RegexOptions.Multiline);
        for (int store = 1; store <= 3; store++)
        {
            string text = await cluster.Http.GetStringAsync(new Uri(cluster.Base(store), "metrics"));
            foreach (Match m in line.Matches(text))
            {
                sum += double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
