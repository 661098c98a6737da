using NoKv.Raft.Messages;
using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>Node commands: <c>crash ID</c>, <c>restart ID</c>, <c>campaign ID</c>, <c>transfer VIA TO</c>,
/// <c>add-server ID</c>, <c>conf add|learner|remove ID</c> (committed through the leader).</summary>
public sealed partial class InteractionEnv
{
    private string HandleNodes(DataDrivenCommand command)
    {
        switch (command.Name)
        {
            case "crash":
                Cluster.Crash(command.Id(0));
                return string.Empty;
            case "restart":
                Cluster.Restart(command.Id(0));
                return string.Empty;
            case "campaign":
                Cluster[command.Id(0)].Campaign();
                return string.Empty;
            case "add-server":
                Cluster.AddServer(command.Id(0));
                return string.Empty;
            case "transfer":
                var result = Cluster[command.Id(0)].TransferLeadership(command.Id(1));
                return result is { } r ? $"{r.Status}" : "node down or busy";
            case "conf":
                var type = command.Arg(0) switch
                {
                    "add" => ConfChangeType.AddNode,
                    "learner" => ConfChangeType.AddLearnerNode,
                    "remove" => ConfChangeType.RemoveNode,
                    var other => throw new FormatException($"line {command.LineNumber}: unknown conf change '{other}'"),
                };
                var index = Cluster.ChangeMembership(new ConfChange(type, command.Id(1)));
                return $"committed at {index}";
            default:
                throw new FormatException(command.Name);
        }
    }
}
