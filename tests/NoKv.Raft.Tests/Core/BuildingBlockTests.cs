using NoKv.Raft.Log;
using NoKv.Raft.Membership;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Raft.Tracker;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class BuildingBlockTests
{
    [Fact]
    public void InflightsFreeInOrderAndWrapAround()
    {
        var inflights = new Inflights(4);
        for (ulong round = 0; round < 5; round++)
        {
            var b = round * 10;
            inflights.Add(b + 1, 10);
            inflights.Add(b + 2, 20);
            inflights.Add(b + 3, 30);
            Assert.False(inflights.Full);
            inflights.Add(b + 4, 40);
            Assert.True(inflights.Full);
            Assert.Equal(100UL, inflights.Bytes);
            Assert.Throws<InvalidOperationException>(() => inflights.Add(b + 5, 1));

            inflights.FreeLE(b + 2);
            Assert.Equal(2, inflights.Count);
            Assert.Equal(70UL, inflights.Bytes);
            inflights.FreeLE(b + 1);
            Assert.Equal(2, inflights.Count);
            inflights.FreeLE(b + 10);
            Assert.Equal(0, inflights.Count);
            Assert.Equal(0UL, inflights.Bytes);
        }
    }

    [Fact]
    public void InflightsWithAByteBoundAreFullOnceTheirBytesReachIt()
    {
        var inflights = new Inflights(8, maxBytes: 100);
        inflights.Add(1, 60);
        Assert.False(inflights.Full);
        inflights.Add(2, 40);
        Assert.True(inflights.Full);
        Assert.Equal(2, inflights.Count);
        inflights.FreeLE(1);
        Assert.False(inflights.Full);

        // One message larger than the bound still goes (the window is full after it).
        inflights.FreeLE(2);
        inflights.Add(3, 500);
        Assert.True(inflights.Full);
    }

    [Theory]
    [InlineData(ProgressState.Probe, 5UL, 10UL, 9UL, 7UL, true, 8UL)]     // probe answer: jump to hint + 1
    [InlineData(ProgressState.Probe, 5UL, 10UL, 9UL, 3UL, true, 6UL)]     // never below match + 1
    [InlineData(ProgressState.Probe, 5UL, 10UL, 7UL, 3UL, false, 10UL)]   // stale: not our last probe
    [InlineData(ProgressState.Replicate, 5UL, 10UL, 4UL, 0UL, false, 10UL)] // rejection below match is stale
    [InlineData(ProgressState.Replicate, 5UL, 10UL, 8UL, 0UL, true, 6UL)]  // pipeline broken: restart after match
    public void ProgressMaybeDecrTo(ProgressState state, ulong match, ulong next, ulong rejected, ulong hint, bool changed, ulong expectedNext)
    {
        var pr = new Progress(next, 8, false) { Match = match };
        if (state == ProgressState.Replicate)
        {
            pr.BecomeReplicate();
            pr.Next = next;
        }
        else
        {
            pr.Next = next;
        }

        Assert.Equal(changed, pr.MaybeDecrTo(rejected, hint));
        Assert.Equal(expectedNext, pr.Next);
    }

    [Fact]
    public void UnstableTruncatesConflictingSuffixAndReusesItsBuffer()
    {
        var u = new Unstable(1);
        u.TruncateAndAppend(Entries(1, 1, 5));
        Assert.Equal(5UL, u.MaybeLastIndex());
        u.TruncateAndAppend(Entries(2, 3, 4));   // replaces 3..5 with term-2 entries 3..4
        Assert.Equal(4UL, u.MaybeLastIndex());
        Assert.True(u.TryTerm(3, out var t) && t == 2);
        u.StableTo(2, 1);
        Assert.Equal(3UL, u.Offset);
        u.StableTo(4, 1);   // wrong term: ignored
        Assert.Equal(3UL, u.Offset);
        for (ulong i = 5; i < 1000; i++)
        {
            u.Append(new Entry(2, i, default));
            u.StableTo(i - 1, 2);
        }

        Assert.Equal(1, u.Count);
        Assert.Equal(999UL, u.MaybeLastIndex());
    }

    [Fact]
    public void RaftLogRefusesToOverwriteCommittedEntries()
    {
        var storage = new MemoryRaftStorage();
        storage.Append(Entries(1, 1, 3));
        storage.SetHardState(new HardState(1, 0, 3));
        var log = new RaftLog(storage, ulong.MaxValue);
        log.InitApplied(0, 3);
        Assert.Throws<InvalidOperationException>(() => log.MaybeAppend(1, 1, 3, Entries(2, 2, 3), out _));
    }

    [Theory]
    [InlineData(10UL, 3UL, 10UL)]  // terms in our log are <= 3 from index 10 backwards: 10 itself
    [InlineData(10UL, 1UL, 3UL)]   // skip the term-2/term-3 entries: index 3 is the last term-1 entry
    [InlineData(10UL, 0UL, 0UL)]   // nothing of term 0 except the dummy
    public void FindConflictByTerm(ulong index, ulong term, ulong expected)
    {
        var storage = new MemoryRaftStorage();
        storage.Append(Entries(1, 1, 3));
        storage.Append(Entries(2, 4, 6));
        storage.Append(Entries(3, 7, 10));
        var log = new RaftLog(storage, ulong.MaxValue);
        Assert.Equal(expected, log.FindConflictByTerm(index, term, out _));
    }

    [Fact]
    public void ConfChangeRoundTripsAndRejectsGarbage()
    {
        var cc = new ConfChange(ConfChangeType.AddLearnerNode, 42, new byte[] { 1, 2, 3 });
        var decoded = ConfChange.Decode(cc.Encode());
        Assert.Equal(cc.Type, decoded.Type);
        Assert.Equal(cc.NodeId, decoded.NodeId);
        Assert.Equal(new byte[] { 1, 2, 3 }, decoded.Context.ToArray());

        Assert.Throws<FormatException>(() => ConfChange.Decode(new byte[] { 1, 0 }));
        var bad = cc.Encode();
        bad[0] = 9;
        Assert.Throws<FormatException>(() => ConfChange.Decode(bad));
        bad = cc.Encode();
        bad[1] = 77;
        Assert.Throws<FormatException>(() => ConfChange.Decode(bad));
        bad = cc.Encode();
        Assert.Throws<FormatException>(() => ConfChange.Decode(bad.AsMemory(0, bad.Length - 1)));
    }

    [Theory]
    [InlineData(ConfChangeType.AddNode, 4UL, "1 2 3 4", "5", true)]
    [InlineData(ConfChangeType.AddNode, 5UL, "1 2 3 5", "", true)]        // promote learner 5
    [InlineData(ConfChangeType.AddLearnerNode, 3UL, "1 2", "3 5", true)]   // demote voter 3
    [InlineData(ConfChangeType.RemoveNode, 5UL, "1 2 3", "", true)]
    [InlineData(ConfChangeType.RemoveNode, 9UL, "1 2 3", "5", false)]
    [InlineData(ConfChangeType.AddLearnerNode, 5UL, "1 2 3", "5", false)]
    public void ConfChangerAppliesOneChange(ConfChangeType type, ulong id, string voters, string learners, bool changed)
    {
        var current = new ConfState([1, 2, 3], [5]);
        var next = ConfChanger.Apply(current, new ConfChange(type, id), out var didChange);
        Assert.Equal(changed, didChange);
        Assert.Equal(Parse(voters), next.Voters);
        Assert.Equal(Parse(learners), next.Learners);
    }

    public static TheoryData<string, Func<RaftConfig, RaftConfig>> InvalidConfigs => new()
    {
        { "Id", c => c with { Id = 0 } },
        { "HeartbeatTick", c => c with { HeartbeatTick = 0 } },
        { "ElectionTick", c => c with { ElectionTick = 1 } },
        { "MaxInflightMsgs", c => c with { MaxInflightMsgs = 0 } },
        { "SnapshotChunkSize", c => c with { SnapshotChunkSize = 0 } },
        { "Random", c => c with { Random = null } },
        { "ReadOnlyOption", c => c with { ReadOnlyOption = ReadOnlyOption.LeaseBased, CheckQuorum = false } },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigs))]
    public void InvalidConfigIsRejectedNamingTheSetting(string setting, Func<RaftConfig, RaftConfig> mutate)
    {
        var config = mutate(TestCluster.DefaultConfig(1));
        var ex = Assert.Throws<ArgumentException>(() => new RawNode(config, new MemoryRaftStorage(new ConfState(1))));
        Assert.Equal(setting, ex.ParamName);
        Assert.Contains(setting, ex.Message);
    }

    /// <summary>RAFT-BUGS #3: a snapshot's membership belongs to its index; later changes go to the restart record only.</summary>
    [Fact]
    public void MemoryStorageKeepsSnapshotMembershipImmutableAndRecordsRestartMembershipSeparately()
    {
        var s = new MemoryRaftStorage(new ConfState(1, 2, 3));
        s.Append(Entries(1, 1, 10));
        s.SetHardState(new HardState(1, 0, 10));
        s.CreateSnapshot(5, new ConfState([1, 2, 3], [4]), new byte[] { 7 });
        s.Compact(5);

        // The host applies "AddNode 4" at index 8 and records it for restarts.
        var later = new ConfState(1, 2, 3, 4);
        s.SetConfState(later, 8);
        Assert.Equal(new ConfState([1, 2, 3], [4]), s.Snapshot().Metadata.ConfState);
        Assert.Equal(later, s.InitialState().ConfState);

        // The single-argument form (as of the latest applied index) must not leak into the snapshot either.
        s.SetConfState(new ConfState(2, 3, 4));
        Assert.Equal(new ConfState([1, 2, 3], [4]), s.Snapshot().Metadata.ConfState);
        Assert.Equal(new ConfState(2, 3, 4), s.InitialState().ConfState);

        // A snapshot created below the recorded index does not regress the restart membership...
        var t = new MemoryRaftStorage(new ConfState(1, 2, 3));
        t.Append(Entries(1, 1, 10));
        t.SetConfState(later, 8);
        t.CreateSnapshot(6, new ConfState(1, 2, 3), default);
        Assert.Equal(later, t.InitialState().ConfState);

        // ...one at or above it (a host that restarts from its snapshots) replaces it, and so does an installed one.
        t.CreateSnapshot(9, new ConfState(1, 2, 4), default);
        Assert.Equal(new ConfState(1, 2, 4), t.InitialState().ConfState);
        var incoming = new Snapshot(new SnapshotMetadata(20, 2, new ConfState(1, 2)), new byte[] { 1 });
        t.ApplySnapshot(incoming);
        Assert.Equal(new ConfState(1, 2), t.InitialState().ConfState);
        Assert.Same(incoming, t.Snapshot());
    }

    [Fact]
    public void MemoryStorageCompactionAndSnapshots()
    {
        var s = new MemoryRaftStorage(new ConfState(1));
        s.Append(Entries(1, 1, 10));
        var snap = s.CreateSnapshot(5, new ConfState(1), new byte[] { 7 });
        Assert.Equal(1UL, snap.Metadata.Term);
        s.Compact(5);
        Assert.Equal(6UL, s.FirstIndex());
        Assert.Equal(1UL, s.Term(5));
        Assert.Throws<LogCompactedException>(() => s.Term(4));
        Assert.Throws<LogCompactedException>(() => s.Entries(5, 7, ulong.MaxValue, new List<Entry>()));
        Assert.Throws<LogUnavailableException>(() => s.Entries(6, 12, ulong.MaxValue, new List<Entry>()));
        Assert.Throws<SnapshotOutOfDateException>(() => s.CreateSnapshot(4, new ConfState(1), default));
        var limited = new List<Entry>();
        s.Entries(6, 11, 1, limited);
        Assert.Single(limited);

        // Overlapping append replaces the suffix.
        s.Append(Entries(2, 8, 9));
        Assert.Equal(9UL, s.LastIndex());
        Assert.Equal(2UL, s.Term(8));
        Assert.Throws<ArgumentException>(() => s.Append(Entries(2, 11, 12)));
    }

    [Fact]
    public void ReadyDisciplineIsEnforced()
    {
        var node = new RawNode(TestCluster.DefaultConfig(1), new MemoryRaftStorage(new ConfState(1)));
        node.Campaign();
        var rd = node.GetReady();
        Assert.Throws<InvalidOperationException>(() => node.Propose(new byte[] { 1 }));
        Assert.Throws<InvalidOperationException>(() => node.Tick());
        Assert.Throws<InvalidOperationException>(() => node.GetReady());
        node.Advance(rd);
        Assert.Throws<InvalidOperationException>(() => node.Advance(rd));
        Assert.Throws<ArgumentException>(() => node.Step(new Message { Type = MessageType.Hup, To = 1 }));
        Assert.Throws<ArgumentException>(() => node.Step(new Message { Type = MessageType.Heartbeat, To = 7, From = 2 }));
    }

    private static Entry[] Entries(ulong term, ulong from, ulong to) =>
        Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => new Entry(term, (ulong)i, new byte[] { (byte)i })).ToArray();

    private static ulong[] Parse(string s) => s.Length == 0 ? [] : s.Split(' ').Select(ulong.Parse).ToArray();
}
