using NoKv.Replica.Commands.Txn;

namespace NoKv.Replica.Commands;

/// <summary>
/// Ends a merge that will never commit, in the source's log: the source serves again (docs/replica.md, "Merge"):
/// <code>
/// envelope(RollbackMerge) | epoch (8) | prepareIndex (8)
/// </code>
/// Proposed only once the target can never apply the matching commit (its epoch moved past the one the commit names);
/// one for another epoch or another prepare index applies as nothing.
/// </summary>
internal sealed record RollbackMergeCommand(long Epoch, ulong PrepareIndex)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.RollbackMerge);
        w.Int64(Epoch);
        w.Int64((long)PrepareIndex);
        return w.ToArray();
    }

    public static RollbackMergeCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "RollbackMerge");
        long epoch = r.Int64();
        ulong index = (ulong)r.Int64();
        r.End();
        return new RollbackMergeCommand(epoch, index);
    }

    public override string ToString() => $"roll back the merge prepared at {PrepareIndex} (epoch {Epoch})";
}
