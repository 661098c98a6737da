using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>
/// Drives a <see cref="SimCluster"/> from data-driven scripts (Simulation/testdata/*.txt), one handler
/// per command, each in the partial-class file named for its group. Outputs are deterministic for a
/// given seed, so a script's expected text is a golden record of the library's behaviour; refresh it
/// with REWRITE=1 when behaviour changes on purpose, and review the diff.
/// </summary>
/// <remarks>
/// Commands: <c>cluster</c>; network: <c>isolate rejoin partition bridge cut heal faults</c>;
/// nodes: <c>crash restart campaign transfer conf add-server</c>; writes: <c>propose one</c>;
/// reads: <c>read</c>; observation: <c>run leader status log</c>. Safety checkers run on every step
/// as in the scenarios; a violation becomes the command's output (and so fails the golden).
/// </remarks>
public sealed partial class InteractionEnv
{
    private SimCluster? _cluster;

    public SimCluster Cluster => _cluster ?? throw new InvalidOperationException("no cluster: start the script with 'cluster'");

    public string Handle(DataDrivenCommand command)
    {
        var output = Dispatch(command);

        // A later 'run' shows only what happened during that run.
        if (_cluster is not null)
        {
            _traceCursor = _cluster.Recorder.Count;
        }

        return output;
    }

    private string Dispatch(DataDrivenCommand command) => command.Name switch
    {
        "cluster" => HandleCluster(command),
        "isolate" or "rejoin" or "partition" or "bridge" or "cut" or "heal" or "faults" => HandleNetwork(command),
        "crash" or "restart" or "campaign" or "transfer" or "conf" or "add-server" => HandleNodes(command),
        "propose" or "one" => HandleWrites(command),
        "read" => HandleRead(command),
        "run" or "leader" or "status" or "log" => HandleObserve(command),
        _ => throw new FormatException($"line {command.LineNumber}: unknown command '{command.Name}'"),
    };

    /// <summary><c>cluster nodes=3 seed=1 [snapshot=N] [prevote=true] [checkquorum=true] [disk=ms] [durable=false] [early=false] [lazycommit=false] [read=Safe|LeaseBased]</c></summary>
    private string HandleCluster(DataDrivenCommand command)
    {
        _cluster = new SimCluster(new SimOptions
        {
            Nodes = (int)command.Named("nodes", 3L),
            Seed = (ulong)command.Named("seed", 1L),
            SnapshotThreshold = (int)command.Named("snapshot", 0L),
            PreVote = command.Named("prevote", true),
            CheckQuorum = command.Named("checkquorum", true),
            MaxDiskLatency = command.Named("disk", 0L),
            DurableStateMachine = command.Named("durable", false),
            LeaderSendsBeforePersist = command.Named("early", false),
            LazyCommitPropagation = command.Named("lazycommit", false),
            ReadOnlyOption = Enum.Parse<ReadOnlyOption>(command.Named("read", nameof(ReadOnlyOption.Safe))),
            Trace = true,
        });
        _traceCursor = _cluster.Recorder.Count;
        return $"started {string.Join(',', _cluster.Ids)}";
    }
}
