using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands.Txn;

namespace NoKv.Replica.Commands;

/// <summary>
/// First step of merging this shard (the source) into its neighbour <see cref="Target"/> (docs/replica.md, "Merge";
/// docs/format-commands.md): from this entry on the source applies no command but <see cref="RollbackMergeCommand"/>,
/// so its rows stay exactly as of this entry until the target takes its range over:
/// <code>
/// envelope(PrepareMerge) | epoch (8) | confVersion (8) | target (8)
/// </code>
/// <see cref="Epoch"/> and <see cref="ConfVersion"/> are what the proposer saw: the merge was planned for this range and
/// this replica set (co-located with the target's); any other applies as nothing.
/// </summary>
internal sealed record PrepareMergeCommand(long Epoch, long ConfVersion, ShardId Target)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.PrepareMerge);
        w.Int64(Epoch);
        w.Int64(ConfVersion);
        w.Int64(Target.Value);
        return w.ToArray();
    }

    public static PrepareMergeCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "PrepareMerge");
        long epoch = r.Int64();
        long confVersion = r.Int64();
        long target = r.Int64();
        r.End();
        return new PrepareMergeCommand(epoch, confVersion, new ShardId(target));
    }

    public override string ToString() => $"prepare merge at epoch {Epoch} conf {ConfVersion} into shard {Target}";
}
