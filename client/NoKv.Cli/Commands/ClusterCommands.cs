using System.CommandLine;
using System.Globalization;
using System.Text;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Admin;

namespace NoKv.Cli.Commands;

/// <summary>`nokv cluster status`: stores, shards, replicas, leaders and Raft indexes.</summary>
internal static class ClusterCommands
{
    public static Command Cluster()
    {
        var status = new Command("status", "Show stores, shards, replicas, leaders and Raft indexes (--output json: ClusterStatusJson's document).");
        status.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var report = await connection.Admin.GetClusterStatusAsync(TimeSpan.FromSeconds(3), token);
            parse.InvocationConfiguration.Output.Write(CliOptions.IsJson(parse) ? ClusterStatusJson.Write(report) + Environment.NewLine : Render(report));
            return 0;
        }));
        return new Command("cluster", "Cluster administration.") { status };
    }

    internal static string Render(ClusterStatus report)
    {
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.AppendLine(inv, $"Shard map version {report.Map.Version}");
        text.AppendLine("STORE  STATE  SILO");
        foreach (var store in report.Map.Stores)
        {
            text.AppendLine(inv, $"{store.Id,5}  {(store.IsUp ? "up" : "DOWN"),-5}  {store.SiloAddress ?? "-"}");
        }

        text.AppendLine();
        text.AppendLine("SHARD  RANGE                                 EPOCH  REPLICA  PEER      ROLE          TERM    COMMIT   APPLIED  LAST     LEADER");
        foreach (var shard in report.Map.Shards)
        {
            foreach (var replica in report.Replicas)
            {
                if (replica.Replica.Shard != shard.Id)
                {
                    continue;
                }

                string range = shard.Range.ToString();
                if (replica.Status is { } s)
                {
                    text.AppendLine(inv, $"{shard.Id,5}  {range,-36}  {shard.Epoch,5}  {replica.Replica.Store,7}  {s.PeerId,-8}  {(s.ApplyHalt is null ? s.Role.ToString() : "HALTED"),-12}  {s.Term,6}  {s.CommitIndex,7}  {s.AppliedIndex,7}  {s.LastIndex,7}  {(s.Leader is { } l ? l.ToString() : "-")}");
                }
                else
                {
                    text.AppendLine(inv, $"{shard.Id,5}  {range,-36}  {shard.Epoch,5}  {replica.Replica.Store,7}  {"-",-8}  UNREACHABLE   {replica.Error}");
                }
            }
        }

        return text.ToString();
    }
}
