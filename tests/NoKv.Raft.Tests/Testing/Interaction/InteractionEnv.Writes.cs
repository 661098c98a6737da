using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>Write commands: <c>propose ID KEY</c> (one proposal at one node, answer printed) and
/// <c>one KEY [expected=N]</c> (the lab's one(): retried until N nodes applied it; prints the index).</summary>
public sealed partial class InteractionEnv
{
    private string HandleWrites(DataDrivenCommand command)
    {
        if (command.Name == "propose")
        {
            var id = command.Id(0);
            var write = Cluster.NewCommand(command.Arg(1));
            var result = Cluster.Propose(id, write);
            return result switch
            {
                null => "node down or busy",
                { IsAccepted: true } r => $"op{write.OpId} accepted at {r.Term}/{r.Index}",
                { } r => $"op{write.OpId} {r.Status} leader-hint={r.LeaderHint}",
            };
        }

        var expected = (int)command.Named("expected", (long)Cluster.Ids.Count);
        var index = Cluster.One(command.Arg(0), expected, retry: true);
        return $"committed at {index}";
    }
}
