using System.Globalization;
using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>Read command: <c>read ID KEY [mode=Safe|LeaseBased] [wait=ms]</c>: issues a linearizable read and
/// runs up to <c>wait</c> virtual ms for it; prints the value (the write id) or that it is still pending.</summary>
public sealed partial class InteractionEnv
{
    private string HandleRead(DataDrivenCommand command)
    {
        var id = command.Id(0);
        var key = command.Arg(1);
        var mode = Enum.Parse<ReadOnlyOption>(command.Named("mode", Cluster.Options.ReadOnlyOption.ToString()));
        var readId = Cluster[id].Read(key, mode);
        if (readId is null)
        {
            return "refused (no leader known, node down or busy)";
        }

        var ledger = Cluster.Ledger;
        Cluster.RunUntil(() => !ledger.IsReadPending(readId.Value), command.Named("wait", 100L));
        if (ledger.IsReadPending(readId.Value))
        {
            return "pending";
        }

        return string.Create(CultureInfo.InvariantCulture, $"{key}=op{Cluster[id].StateMachine.Get(key)}");
    }
}
