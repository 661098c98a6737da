using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>Network commands: <c>isolate ID</c>, <c>rejoin ID</c>, <c>partition 1,2 3,4,5</c>,
/// <c>bridge 1,2 3 4,5</c>, <c>cut FROM TO</c> (one way), <c>heal</c>, <c>faults reliable|unreliable</c>.</summary>
public sealed partial class InteractionEnv
{
    private string HandleNetwork(DataDrivenCommand command)
    {
        var network = Cluster.Network;
        switch (command.Name)
        {
            case "isolate":
                Cluster.Isolate(command.Id(0));
                break;
            case "rejoin":
                Cluster.Rejoin(command.Id(0));
                break;
            case "partition":
                network.Partition(command.Positional.Select((_, i) => (IReadOnlyCollection<ulong>)command.Ids(i)).ToArray());
                break;
            case "bridge":
                network.Bridge(command.Ids(0), command.Id(1), command.Ids(2));
                break;
            case "cut":
                network.CutOneWay(command.Id(0), command.Id(1));
                break;
            case "heal":
                Cluster.HealNetwork();
                break;
            case "faults":
                network.DefaultFaults = command.Arg(0) == "unreliable" ? LinkFaults.Unreliable : LinkFaults.Reliable;
                break;
        }

        return string.Empty;
    }
}
