using System.Buffers.Binary;
using System.Text;

namespace NoKv.Raft.Tests.Testing;

/// <summary>
/// The tiny state machine each simulated node applies committed entries to: a map from key to the
/// id of the last write, plus a running digest of everything applied (so two nodes' states at one
/// index can be compared in O(1), and a snapshot carries the digest of the state it captures).
/// </summary>
/// <remarks>
/// Volatile by design: a crash loses it, and a restart rebuilds it from the node's last snapshot and
/// re-applies the committed log after it, which exercises the library's restart path.
/// Snapshot encoding (little endian): <c>digest:u64 | count:u32 | (keyLength:u16 key:utf8 opId:u64)*count</c>,
/// keys in ordinal order so equal states encode to equal bytes.
/// </remarks>
public sealed class KvStateMachine
{
    private readonly SortedDictionary<string, ulong> _values = new(StringComparer.Ordinal);

    public ulong AppliedIndex { get; private set; }

    /// <summary>Digest of the applied sequence: a hash chain over (index, term, type, payload).</summary>
    public ulong Digest { get; private set; }

    public int Count => _values.Count;

    /// <summary>The id of the last write applied to <paramref name="key"/>, or 0 if none.</summary>
    public ulong Get(string key) => _values.TryGetValue(key, out var opId) ? opId : 0;

    /// <summary>Applies one committed entry. Precondition: index == AppliedIndex + 1.</summary>
    /// <returns>The command applied, or null for no-ops and membership entries.</returns>
    public KvCommand? Apply(ulong index, ulong term, byte type, ReadOnlySpan<byte> data)
    {
        if (index != AppliedIndex + 1)
        {
            throw new InvalidOperationException($"State machine at {AppliedIndex} asked to apply index {index}.");
        }

        AppliedIndex = index;
        Digest = Mix(Digest, index, term, type, data);
        if (type == 0 && KvCommand.TryDecode(data, out var command))
        {
            _values[command.Key] = command.OpId;
            return command;
        }

        return null;
    }

    public byte[] TakeSnapshot()
    {
        var size = 8 + 4;
        foreach (var key in _values.Keys)
        {
            size += 2 + Encoding.UTF8.GetByteCount(key) + 8;
        }

        var buffer = new byte[size];
        BinaryPrimitives.WriteUInt64LittleEndian(buffer, Digest);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), (uint)_values.Count);
        var offset = 12;
        foreach (var (key, opId) in _values)
        {
            var length = Encoding.UTF8.GetBytes(key, buffer.AsSpan(offset + 2));
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(offset), (ushort)length);
            offset += 2 + length;
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(offset), opId);
            offset += 8;
        }

        return buffer;
    }

    /// <summary>Replaces the whole state with a snapshot taken at <paramref name="index"/>.</summary>
    /// <exception cref="FormatException">The data is not a snapshot of this state machine.</exception>
    public void Restore(ulong index, ReadOnlySpan<byte> data)
    {
        _values.Clear();
        AppliedIndex = index;
        if (index == 0 && data.IsEmpty)
        {
            Digest = 0;
            return;
        }

        if (data.Length < 12)
        {
            throw new FormatException($"KV snapshot of {data.Length} bytes is shorter than its header.");
        }

        Digest = BinaryPrimitives.ReadUInt64LittleEndian(data);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(data[8..]);
        var offset = 12;
        for (var i = 0u; i < count; i++)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(data[offset..]);
            var key = Encoding.UTF8.GetString(data.Slice(offset + 2, length));
            offset += 2 + length;
            _values[key] = BinaryPrimitives.ReadUInt64LittleEndian(data[offset..]);
            offset += 8;
        }

        if (offset != data.Length)
        {
            throw new FormatException($"KV snapshot has {data.Length - offset} trailing bytes.");
        }
    }

    private static ulong Mix(ulong digest, ulong index, ulong term, byte type, ReadOnlySpan<byte> data)
    {
        // FNV-1a over the fields, seeded by the previous digest: a hash chain, so equal digests at one
        // index mean (with overwhelming probability) equal applied sequences up to it.
        const ulong prime = 0x100000001B3UL;
        var h = digest ^ 0xCBF29CE484222325UL;
        h = (h ^ index) * prime;
        h = (h ^ term) * prime;
        h = (h ^ type) * prime;
        foreach (var b in data)
        {
            h = (h ^ b) * prime;
        }

        return h;
    }
}
