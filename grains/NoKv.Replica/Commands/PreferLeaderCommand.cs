using NoKv.Replica.Commands.Txn;

namespace NoKv.Replica.Commands;

/// <summary>
/// Makes <see cref="PeerId"/> the shard's preferred leader: its voter moves to the front of the descriptor's peers
/// (the others keep their order) and the membership version grows by one (docs/format-commands.md):
/// <code>
/// envelope(PreferLeader) | peer (8)
/// </code>
/// Committed in the shard's own log, so the preference survives restarts, snapshots and leader changes, and the
/// replica's leader balance (which hands leadership to the first voter) keeps a transfer instead of undoing it.
/// A peer that is not a voter of the shard when the entry applies is refused (InvalidRange) and changes nothing;
/// a peer that is already first applies as nothing.
/// </summary>
internal sealed record PreferLeaderCommand(ulong PeerId)
{
    public byte[] Encode()
    {
        var w = new CommandWriter(CommandType.PreferLeader);
        w.Int64((long)PeerId);
        return w.ToArray();
    }

    public static PreferLeaderCommand Decode(CommandHeader header, ReadOnlySpan<byte> data)
    {
        var r = new CommandReader(data, header.BodyOffset, "PreferLeader");
        ulong peer = (ulong)r.Int64();
        r.End();
        if (peer == 0)
        {
            throw new CommandFormatException("PreferLeader names peer 0, which is never a peer.");
        }

        return new PreferLeaderCommand(peer);
    }

    public override string ToString() => $"prefer leader peer {PeerId}";
}
