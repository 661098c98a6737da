using NoKv.IntegrationTests.External;
using NoKv.IntegrationTests.Infrastructure;
using Npgsql;
using Orleans.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Membership;

/// <summary>
/// deploy/appsettings.postgres.json against a real PostgreSQL 15 (Microsoft.Orleans.Clustering.AdoNet + Npgsql), with the
/// schema created by deploy/postgres/orleans-membership.sql exactly as deploy/README.md tells operators to.
/// </summary>
public sealed class PostgresMembershipTests(ITestOutputHelper output)
{
    [RequiresPostgresFact]
    public async Task Three_silos_from_the_postgres_example_config_form_a_cluster_survive_a_kill_and_verify_clean()
    {
        using var postgres = await PostgresServer.StartAsync();
        string script = Path.Combine(CliProcess.RepositoryRoot(), "deploy", "postgres", "orleans-membership.sql");
        await postgres.RunScriptAsync(script);
        await postgres.RunScriptAsync(script); // idempotent: an operator may run it again after an upgrade

        System.Data.Common.DbProviderFactories.RegisterFactory("Npgsql", NpgsqlFactory.Instance);
        using var scenario = new ExternalMembershipScenario(output, "appsettings.postgres.json", postgres.ConnectionString, c => c.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = postgres.ConnectionString;
        }), killAndRestart: true);
        await scenario.RunAsync();

        // The table holds the cluster's incarnations: four (store 1 twice), all declared dead (6) by now: the killed one
        // by its successor or its peers, the others as they shut down.
        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT silo_name, status FROM nokv_membership ORDER BY silo_name, generation", connection);
        var rows = new List<(string Name, int Status)>();
        await using (var reader = await query.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetInt32(1)));
            }
        }

        Assert.Equal(4, rows.Count);
        Assert.Equal(2, rows.Count(r => r.Name == "store-1"));
        Assert.All(rows, r => Assert.Equal(6, r.Status));
    }
}
