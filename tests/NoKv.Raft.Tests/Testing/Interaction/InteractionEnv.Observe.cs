using System.Text;
using NoKv.Raft.Messages;
using NoKv.Raft.Tests.Testing.DataDriven;

namespace NoKv.Raft.Tests.Testing.Interaction;

/// <summary>
/// Observation commands: <c>run ms=N [show=role,crash,...]</c> advances virtual time and prints the trace
/// lines of the listed kinds that happened meanwhile; <c>leader [among=1,2,3]</c> waits for an agreed
/// leader; <c>status</c> prints every node; <c>log ID</c> prints a node's durable log.
/// </summary>
public sealed partial class InteractionEnv
{
    private long _traceCursor;

    private string HandleObserve(DataDrivenCommand command)
    {
        switch (command.Name)
        {
            case "run":
                Cluster.RunFor(command.Named("ms", 100L));
                return NewTraceLines(command.Named("show", "role"));
            case "leader":
                var among = command.Named("among", string.Empty);
                var ids = among.Length == 0 ? null : among.Split(',').Select(ulong.Parse).ToArray();
                var leader = Cluster.CheckOneLeader(ids);
                return $"leader {leader} term {Cluster[leader].Term}";
            case "status":
                return Status();
            case "log":
                return Log(Cluster[command.Id(0)]);
            default:
                throw new FormatException(command.Name);
        }
    }

    private string NewTraceLines(string kinds)
    {
        var wanted = kinds.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
        var builder = new StringBuilder();
        var skip = _traceCursor - Math.Max(0, Cluster.Recorder.Count - Cluster.Recorder.Capacity);
        foreach (var line in Cluster.Recorder.Lines().Skip((int)Math.Max(0, skip)))
        {
            var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && wanted.Contains(parts[1]))
            {
                builder.AppendLine(line.Trim());
            }
        }

        _traceCursor = Cluster.Recorder.Count;
        return builder.ToString();
    }

    private string Status()
    {
        var builder = new StringBuilder();
        foreach (var host in Cluster.Hosts)
        {
            if (host.Node is not { } node)
            {
                builder.AppendLine($"{host.Id}: down (durable term={host.Storage.HardState.Term} commit={host.Storage.HardState.Commit} log=[{host.Storage.FirstIndex()}..{host.Storage.LastIndex()}])");
                continue;
            }

            builder.AppendLine(
                $"{host.Id}: {node.Role} term={node.Term} lead={node.Lead} commit={node.CommitIndex} applied={host.StateMachine.AppliedIndex} "
                + $"log=[{host.Storage.FirstIndex()}..{host.Storage.LastIndex()}] {node.ConfState}");
        }

        return builder.ToString();
    }

    private static string Log(SimHost host)
    {
        var storage = host.Storage;
        var entries = new List<Entry>();
        if (storage.LastIndex() >= storage.FirstIndex())
        {
            storage.Entries(storage.FirstIndex(), storage.LastIndex() + 1, ulong.MaxValue, entries);
        }

        var builder = new StringBuilder($"snapshot {storage.FirstIndex() - 1}/{storage.Term(storage.FirstIndex() - 1)}");
        foreach (var entry in entries)
        {
            builder.Append(' ').Append(entry.Term).Append('/').Append(entry.Index);
            if (entry.Type == EntryType.ConfChange)
            {
                var change = ConfChange.Decode(entry.Data);
                builder.Append(change.Type switch
                {
                    ConfChangeType.AddNode => "+v",
                    ConfChangeType.AddLearnerNode => "+l",
                    _ => "-",
                }).Append(change.NodeId);
            }
            else if (KvCommand.TryDecode(entry.Data.Span, out var write))
            {
                builder.Append(":op").Append(write.OpId);
            }
        }

        return builder.ToString();
    }
}
