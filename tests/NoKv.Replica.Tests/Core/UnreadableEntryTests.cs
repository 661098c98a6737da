using System.Text;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using Xunit;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// The rule of docs/format-commands.md for a committed entry this build cannot read (written by a newer build during
/// a rolling upgrade): never skip it, never crash-loop; stop applying at it, keep the log and the acknowledgements
/// going, refuse clients with a typed error, and stay so across restarts until upgraded.
/// </summary>
public sealed class UnreadableEntryTests
{
    [Fact]
    public void A_committed_entry_of_a_newer_build_halts_applying_but_not_replication()
    {
        using var group = new ScriptedGroup();
        ulong leader = group.PeerIdOf(ScriptedGroup.PeerB);
        ulong self = group.PeerIdOf(ScriptedGroup.Self);
        byte[] known = KvCommand.From(Put("a", "1"), 1).Encode();
        byte[] newer = [CommandEnvelope.Magic, CommandEnvelope.CurrentVersion, 200, 1, 2, 3];

        group.Deliver(Append(leader, self, after: 0, commit: 3, new Entry(1, 1, known), new Entry(1, 2, newer), new Entry(1, 3, known)));

        Assert.Null(group.Failure);
        Assert.Equal(1ul, group.Core.AppliedIndex);
        Assert.Contains("entry 2", group.Core.ApplyHaltReason);
        Assert.Equal(NoKvErrorCode.StoreUnavailable, group.Run(group.Core.GetAsync(Read("a"))).Code);

        // Replication goes on: later entries are appended and acknowledged, so the group keeps its quorum.
        group.Deliver(Append(leader, self, after: 3, commit: 4, new Entry(1, 4, known)));
        Assert.Equal(4ul, group.Core.LastIndex);
        Assert.Contains(group.Sent, m => m.Type == MessageType.AppendResponse && !m.Reject && m.Index == 4);
        Assert.Equal(1ul, group.Core.AppliedIndex);

        // Clients get a typed, retryable refusal (another replica may serve them).
        var refused = group.Run(group.Core.WriteAsync(Put("b", "2")));
        Assert.Equal(NoKvErrorCode.StoreUnavailable, refused.Code);
        Assert.Contains("stopped applying", refused.Detail);

        // A restart neither skips the entry nor fails: it halts at the same place again.
        group.Reopen();
        Assert.Null(group.Failure);
        group.Deliver(Append(leader, self, after: 4, commit: 4));
        Assert.Equal(1ul, group.Core.AppliedIndex);
        Assert.Contains("entry 2", group.Core.ApplyHaltReason);
    }

    private static Message Append(ulong from, ulong to, ulong after, ulong commit, params Entry[] entries) => new()
    {
        Type = MessageType.Append, From = from, To = to, Term = 1, Index = after, LogTerm = after == 0 ? 0UL : 1UL, Commit = commit, Entries = entries,
    };

    private static WriteRequest Put(string key, string value) => new()
    {
        Shard = new ShardId(1), Epoch = 1, Kind = WriteKind.Put, Key = Encoding.UTF8.GetBytes(key), Value = Encoding.UTF8.GetBytes(value),
        Session = new ClientSession(Guid.Empty, 0),
    };

    private static ReadRequest Read(string key) => new()
    {
        Shard = new ShardId(1), Epoch = 1, Key = Encoding.UTF8.GetBytes(key), Consistency = ReadConsistency.BoundedStaleness, MaxStaleness = TimeSpan.FromHours(1),
    };
}
