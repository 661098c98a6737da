using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Support;

/// <summary>Random valid Raft messages of every type that travels between nodes, and field-by-field comparison.</summary>
public static class RandomRaftMessages
{
    /// <summary>Every type a node sends to another (the local ones and Propose never leave a node).</summary>
    public static readonly MessageType[] WireTypes = Enum.GetValues<MessageType>()
        .Where(t => t != MessageType.Propose && !Message.IsLocal(t))
        .ToArray();

    public static Message Next(Random random, MessageType type)
    {
        int entryCount = random.Next(4) == 0 ? 0 : random.Next(9);
        var entries = new Entry[entryCount];
        for (int i = 0; i < entryCount; i++)
        {
            var entryType = random.Next(5) == 0 ? EntryType.ConfChange : EntryType.Normal;
            entries[i] = new Entry(Ulong(random), Ulong(random), entryType, Mutator.RandomBytes(random, random.Next(4) == 0 ? 0 : random.Next(300)));
        }

        Snapshot? snapshot = null;
        if (type == MessageType.Snapshot || random.Next(6) == 0)
        {
            var voters = Ids(random, random.Next(8));
            var learners = Ids(random, random.Next(4));
            snapshot = new Snapshot(new SnapshotMetadata(Ulong(random), Ulong(random), new ConfState(voters, learners)), Mutator.RandomBytes(random, random.Next(1200)));
        }

        return new Message
        {
            Type = type, From = Ulong(random), To = Ulong(random), Term = Ulong(random), LogTerm = Ulong(random),
            Index = Ulong(random), Commit = Ulong(random), Reject = random.Next(2) == 0, RejectHint = Ulong(random),
            ChunkOffset = Ulong(random), SnapshotSize = Ulong(random),
            Context = random.Next(3) == 0 ? ReadOnlyMemory<byte>.Empty : Mutator.RandomBytes(random, random.Next(64)),
            Entries = entries, Snapshot = snapshot,
        };
    }

    public static void Equal(in Message expected, in Message actual, string context)
    {
        Assert.True(expected.Type == actual.Type, $"{context}: type {actual.Type}, expected {expected.Type}");
        Assert.True(
            (expected.From, expected.To, expected.Term, expected.LogTerm, expected.Index, expected.Commit, expected.Reject, expected.RejectHint, expected.ChunkOffset, expected.SnapshotSize)
            == (actual.From, actual.To, actual.Term, actual.LogTerm, actual.Index, actual.Commit, actual.Reject, actual.RejectHint, actual.ChunkOffset, actual.SnapshotSize),
            $"{context}: scalar fields differ: {actual} vs {expected}");
        Assert.True(expected.Context.Span.SequenceEqual(actual.Context.Span), $"{context}: context differs");
        Assert.True(expected.Entries.Span.SequenceEqual(actual.Entries.Span), $"{context}: entries differ");
        if (expected.Snapshot is null)
        {
            Assert.True(actual.Snapshot is null, $"{context}: a snapshot appeared");
            return;
        }

        Assert.True(actual.Snapshot is not null, $"{context}: the snapshot was lost");
        Assert.True(expected.Snapshot.Metadata == actual.Snapshot.Metadata, $"{context}: snapshot metadata {actual.Snapshot.Metadata}, expected {expected.Snapshot.Metadata}");
        Assert.True(expected.Snapshot.Data.Span.SequenceEqual(actual.Snapshot.Data.Span), $"{context}: snapshot data differs");
    }

    private static ulong Ulong(Random random) => random.Next(3) switch
    {
        0 => (ulong)random.Next(100),
        1 => ulong.MaxValue - (ulong)random.Next(3),
        _ => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 33),
    };

    private static ulong[] Ids(Random random, int count)
    {
        var ids = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = Ulong(random);
        }

        return ids;
    }
}
