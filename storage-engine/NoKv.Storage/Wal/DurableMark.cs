using NoKv.Storage.Encoding;

namespace NoKv.Storage.Wal;

/// <summary>
/// A WAL meta record saying "log <see cref="LogNumber"/> is durable through <see cref="Offset"/>": an fdatasync
/// covering every byte of that log before the offset had returned when the mark was appended.
/// </summary>
/// <remarks>
/// The writer appends one ahead of the first record after each completed sync (the mark of the sync before),
/// one at the start of each new log (its predecessor, synced to its end at the switch), and one when the log is
/// sealed at close. The mark itself may be unsynced and may be lost; what matters is that a mark that survives
/// is true, so recovery may trust it as proof: damage before a surviving mark's offset lies in data a completed
/// fdatasync covered, which a power loss cannot take back, so it is reported as corruption and never dropped.
/// Payload: <c>kind:u8 (=1) log_number:fixed64 offset:fixed64</c>.
/// </remarks>
internal readonly record struct DurableMark(ulong LogNumber, long Offset)
{
    public const int EncodedLength = 17;

    public void EncodeTo(Span<byte> destination)
    {
        destination[0] = (byte)LogMetaKind.DurableThrough;
        Fixed.Write64(destination[1..], LogNumber);
        Fixed.Write64(destination[9..], (ulong)Offset);
    }

    /// <summary>Decodes a meta record; false for a meta record of another kind or a malformed one.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> meta, out DurableMark mark)
    {
        mark = default;
        if (meta.Length != EncodedLength || meta[0] != (byte)LogMetaKind.DurableThrough)
        {
            return false;
        }

        ulong offset = Fixed.Read64(meta[9..]);
        if (offset > long.MaxValue)
        {
            return false;
        }

        mark = new DurableMark(Fixed.Read64(meta[1..]), (long)offset);
        return true;
    }
}
