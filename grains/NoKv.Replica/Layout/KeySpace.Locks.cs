using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// Where the lock service keeps its state (docs/locks.md):
/// <code>
/// 0x05 | lock name                    lock record (<see cref="StateMachine.LockRecord"/>): token counter, holder, queue
/// 0x01 | shard | 0x0B | resource      fence row: the highest fencing token a write to this shard presented for resource
/// </code>
/// Lock records are keyed by name under their own prefix, like user data, so a shard's lock records are the range
/// of its key range and move with it when ranges split, merge or move (the token counter moves with them). Fence
/// rows belong to the shard that holds the written data, not to the lock, so they are shard state; copying them to
/// both halves of a split is safe (a fence only ever refuses older tokens). Never renumber the prefix or tag.
/// </summary>
public static partial class KeySpace
{
    public const byte LockPrefix = 0x05;

    private const byte FenceTag = 0x0B;

    /// <summary>The engine key of lock <paramref name="name"/>'s record.</summary>
    public static byte[] LockKey(ReadOnlySpan<byte> name)
    {
        var key = new byte[name.Length + 1];
        key[0] = LockPrefix;
        name.CopyTo(key.AsSpan(1));
        return key;
    }

    /// <summary>Engine range of the lock records named in [start, end); an empty end maps to the end of the prefix.</summary>
    public static (byte[] Start, byte[] End) LockRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) =>
        (LockKey(start), end.IsEmpty ? [LockPrefix + 1] : LockKey(end));

    public static byte[] FenceKey(ShardId shard, ReadOnlySpan<byte> resource)
    {
        var key = new byte[10 + resource.Length];
        key[0] = GroupPrefix;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), shard.Value);
        key[9] = FenceTag;
        resource.CopyTo(key.AsSpan(10));
        return key;
    }

    public static byte[] FenceStart(ShardId shard) => Tag(shard, FenceTag);

    public static byte[] FenceEnd(ShardId shard) => Tag(shard, FenceTag + 1);
}
