using NoKv.Abstractions.Sharding;
using NoKv.Replica.Commands.Txn;

namespace NoKv.Replica.Commands;

/// <summary>
/// Splits the shard at <see cref="SplitKey"/>: the shard keeps <c>[start, SplitKey)</c> and a new shard
/// <see cref="NewShard"/> takes <c>[SplitKey, end)</c>, with one new peer on each store of the shard
/// (docs/format-commands.md, docs/replica.md "Split"):
/// <code>
/// envelope(Split) | epoch (8) | splitKey:bytes | newShard (8) | count (4) | count x [ store (4) | newPeer (8) ]
/// </code>
/// <see cref="Epoch"/> is the epoch the proposer saw: a split for another epoch (a duplicate, or one overtaken by
/// another range change) applies as nothing.
/// </summary>
internal sealed record SplitCommand(long Epoch, byte[] SplitKey, ShardId NewShard, SplitPeer[] NewPeers)
{
    /// <summary>Most peers a shard may have (the replica state record's limit).</summary>
    private const int MaxPeers = 64;

    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.Split);
        w.Int64(Epoch);
        w.Bytes(SplitKey);
        w.Int64(NewShard.Value);
        w.Int32(NewPeers.Length);
        foreach (var peer in NewPeers)
        {
            w.Int32(peer.Store.Value);
            w.Int64((long)peer.PeerId);
        }

        return w.ToArray();
    }

    public static SplitCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "Split");
        long epoch = r.Int64();
        byte[] key = r.Bytes();
        long shard = r.Int64();
        int count = r.Int32();
        if (count < 0 || count > MaxPeers)
        {
            throw new CommandFormatException($"Split command lists {count} peers (at most {MaxPeers}).");
        }

        var peers = new SplitPeer[count];
        for (int i = 0; i < count; i++)
        {
            peers[i] = new SplitPeer(new StoreId(r.Int32()), (ulong)r.Int64());
        }

        r.End();
        return new SplitCommand(epoch, key, new ShardId(shard), peers);
    }

    public override string ToString() => $"split epoch {Epoch} at {KeyFormatter.Format(SplitKey)} into shard {NewShard} peers [{string.Join(",", NewPeers)}]";
}
