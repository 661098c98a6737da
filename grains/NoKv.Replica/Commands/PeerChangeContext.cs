using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Commands;

/// <summary>
/// The context of a membership change entry (<see cref="NoKv.Raft.Messages.ConfChange.Context"/>): which store an
/// added peer lives on, so every replica's descriptor learns it from the log. On disk in every log (docs/format-commands.md):
/// <code>
/// version (1) = 1 | store id (4, LE)
/// </code>
/// A removal carries no context.
/// </summary>
internal static class PeerChangeContext
{
    private const byte Version = 1;

    public static byte[] Encode(StoreId store)
    {
        var buffer = new byte[5];
        buffer[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(1), store.Value);
        return buffer;
    }

    /// <exception cref="FormatException">The context is not a store of this format.</exception>
    public static StoreId DecodeStore(ReadOnlySpan<byte> context)
    {
        if (context.Length != 5 || context[0] != Version)
        {
            throw new FormatException($"membership change context of {context.Length} bytes is not a version-{Version} peer context");
        }

        var store = new StoreId(BinaryPrimitives.ReadInt32LittleEndian(context[1..]));
        if (!store.IsValid)
        {
            throw new FormatException($"membership change names invalid store {store}");
        }

        return store;
    }
}
