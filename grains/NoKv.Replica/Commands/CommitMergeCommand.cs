using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands.Txn;
using NoKv.Replica.Layout;

namespace NoKv.Replica.Commands;

/// <summary>
/// Second step of a merge, in the target's log: the target takes over the range of <see cref="Source"/>, a neighbour
/// whose replicas live on the target's stores and that applied <see cref="PrepareMergeCommand"/> at
/// (<see cref="PrepareIndex"/>, <see cref="PrepareTerm"/>) (docs/replica.md, "Merge"):
/// <code>
/// envelope(CommitMerge) | epoch (8) | confVersion (8) | prepareIndex (8) | prepareTerm (8) | source:bytes
/// </code>
/// <c>source</c> is the source's descriptor as its prepare left it (a replica state record with peer id 0,
/// docs/format-replica-state.md). <see cref="Epoch"/> and <see cref="ConfVersion"/> are the target's as the proposer saw
/// them: a commit for another epoch (a duplicate, a rolled-back merge) applies as nothing.
/// </summary>
internal sealed record CommitMergeCommand(long Epoch, long ConfVersion, ulong PrepareIndex, ulong PrepareTerm, ShardDescriptor Source)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.CommitMerge);
        w.Int64(Epoch);
        w.Int64(ConfVersion);
        w.Int64((long)PrepareIndex);
        w.Int64((long)PrepareTerm);
        w.Bytes(ReplicaStateCodec.Encode(new ReplicaState(0, Source)));
        return w.ToArray();
    }

    public static CommitMergeCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "CommitMerge");
        long epoch = r.Int64();
        long confVersion = r.Int64();
        ulong index = (ulong)r.Int64();
        ulong term = (ulong)r.Int64();
        byte[] source = r.Bytes();
        r.End();
        ShardDescriptor descriptor;
        try
        {
            descriptor = ReplicaStateCodec.Decode(source).Descriptor;
        }
        catch (InvalidDataException e)
        {
            throw new CommandFormatException($"CommitMerge command carries an unreadable source descriptor: {e.Message}");
        }

        return new CommitMergeCommand(epoch, confVersion, index, term, descriptor);
    }

    public override string ToString() => $"commit merge at epoch {Epoch} conf {ConfVersion} of {Source} prepared at {PrepareIndex}/{PrepareTerm}";
}
