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
        var controller = report.Controller;
        text.AppendLine(inv, $"Controller: Raft leader on store {(report.ControllerLeader is { } cl ? cl.ToString() : "-")}, logic on {controller?.LogicSilo ?? "-"}, timestamps up to {(controller is null ? "-" : controller.TimestampHighWater.ToString(inv))}{(report.ControllerError is { } ce ? $" (controller: {ce})" : "")}");
        if (controller?.Balancer is { } balancer)
        {
            static string OnOff(bool on) => on ? "on" : "off";
            text.AppendLine(inv, $"Balancer: leaders {OnOff(balancer.LeaderBalance)}, replicas {OnOff(balancer.ReplicaBalance)}, auto-split {OnOff(balancer.AutoSplit)} (at {balancer.SplitBytes / 1048576.0:F1} MiB or {balancer.SplitRequestsPerSecond:F0} requests/s)");
            foreach (var decision in balancer.RecentDecisions.TakeLast(5))
            {
                text.AppendLine(inv, $"  {decision}");
            }
        }

        text.AppendLine("STORE  STATE            LIVE  SILO                            REPLICAS  LEADERS  PREFERRED   WRITES/S    READS/S  USED MB  HEARTBEAT");
        var ids = report.Map.Stores.Select(s => s.Id).Concat(controller?.Stores.Select(s => s.Id) ?? []).Distinct().OrderBy(s => s.Value);
        foreach (var id in ids)
        {
            var live = report.Map.Stores.FirstOrDefault(s => s.Id == id);
            var view = controller?.Stores.FirstOrDefault(s => s.Id == id);
            string state = view is not null ? ClusterStatusJson.StateName(view.State) : live?.IsUp == true ? "up" : "down";
            if (view?.DiskSlow == true)
            {
                state += ", slow disk";
            }

            text.AppendLine(inv, $"{id,5}  {state,-15}  {(live?.IsUp == true ? "yes" : "NO"),-4}  {live?.SiloAddress ?? view?.Address ?? "-",-30}  {view?.Replicas.ToString(inv) ?? "-",8}  {view?.Leaders.ToString(inv) ?? "-",7}  {view?.PreferredLeaders.ToString(inv) ?? "-",9}  {view?.WritesPerSecond.ToString("F1", inv) ?? "-",9}  {view?.ReadsPerSecond.ToString("F1", inv) ?? "-",9}  {(view is null ? "-" : (view.UsedBytes / 1048576.0).ToString("F1", inv)),7}  {(view?.LastHeartbeatAgeMs is { } age ? $"{age} ms ago" : "-")}");
        }

        if (controller is { Loads.Length: > 0 })
        {
            // The leaders' figures from their heartbeats: sizes and key counts are engine estimates (docs/controller.md).
            text.AppendLine();
            text.AppendLine("SHARD  LEADER   WRITES/S    READS/S   SIZE MB          KEYS");
            foreach (var load in controller.Loads)
            {
                text.AppendLine(inv, $"{load.Shard,5}  {load.Leader?.ToString() ?? "-",6}  {load.WritesPerSecond,9:F1}  {load.ReadsPerSecond,9:F1}  {(load.ApproximateBytes is { } b ? (b / 1048576.0).ToString("F1", inv) : "-"),8}  {load.ApproximateKeys?.ToString(inv) ?? "-",12}");
            }
        }

        var hot = ClusterStatusJson.HotKeys(report);
        if (hot.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("HOT KEY (each store's last window, hottest first)                    SHARD  STORE  REQUESTS/S");
            foreach (var (store, key) in hot.Take(16))
            {
                text.AppendLine(inv, $"{KeyFormatter.Format(key.Key),-66}  {key.Shard,5}  {store,5}  {key.RequestsPerSecond,10:F1}");
            }
        }

        if (controller is { Operations.Length: > 0 })
        {
            text.AppendLine();
            text.AppendLine("OPERATION  KIND             SHARD  STEP  FROM  TO    WAITING");
            foreach (var op in controller.Operations)
            {
                text.AppendLine(inv, $"{op.Id,9}  {op.Kind,-15}  {op.Shard,5}  {op.Step,4}  {op.From?.ToString() ?? "-",4}  {op.To?.ToString() ?? "-",4}  {op.Waiting ?? "-"}");
            }
        }

        text.AppendLine();
        text.AppendLine("SHARD  RANGE                                 EPOCH  REPLICA  MEMBER   PEER      ROLE          TERM    COMMIT   APPLIED  LAST     LEADER");
        foreach (var shard in report.Map.Shards)
        {
            foreach (var replica in report.Replicas)
            {
                if (replica.Replica.Shard != shard.Id)
                {
                    continue;
                }

                string range = shard.Range.ToString();
                string member = shard.PeerOn(replica.Replica.Store) is { Role: PeerRole.Learner } ? "learner" : "voter";
                if (replica.Status is { } s)
                {
                    string role = s.ApplyHalt is not null ? "HALTED" : s.Uninitialized ? "NEW" : s.Role.ToString();
                    text.AppendLine(inv, $"{shard.Id,5}  {range,-36}  {shard.Epoch,5}  {replica.Replica.Store,7}  {member,-7}  {s.PeerId,-8}  {role,-12}  {s.Term,6}  {s.CommitIndex,7}  {s.AppliedIndex,7}  {s.LastIndex,7}  {(s.Leader is { } l ? l.ToString() : "-")}");
                }
                else
                {
                    text.AppendLine(inv, $"{shard.Id,5}  {range,-36}  {shard.Epoch,5}  {replica.Replica.Store,7}  {member,-7}  {"-",-8}  UNREACHABLE   {replica.Error}");
                }
            }
        }

        return text.ToString();
    }
}
