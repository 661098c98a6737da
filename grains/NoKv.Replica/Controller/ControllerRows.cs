using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// Keys of the controller group's rows (docs/format-controller.md). The first byte names the kind of row; never
/// renumber, they are in every controller replica's engine.
/// <code>
/// 0x01                           timestamp oracle high-water mark (TimestampOracleRow)
/// 0x02                           the shard map (ShardMapRow)
/// 0x03 | store id (4, BE)        one store (StoreRow)
/// 0x04 | operation id (8, BE)    one operation in progress (OperationRow)
/// </code>
/// </summary>
public static class ControllerRows
{
    private const byte TimestampsTag = 0x01;
    private const byte MapTag = 0x02;
    private const byte StoreTag = 0x03;
    private const byte OperationTag = 0x04;

    public static byte[] Timestamps => [TimestampsTag];

    public static byte[] Map => [MapTag];

    public static byte[] Store(StoreId store)
    {
        var key = new byte[5];
        key[0] = StoreTag;
        BinaryPrimitives.WriteInt32BigEndian(key.AsSpan(1), store.Value);
        return key;
    }

    /// <summary>[start, end) of every store row.</summary>
    public static (byte[] Start, byte[] End) Stores => ([StoreTag], [StoreTag + 1]);

    public static byte[] Operation(long id)
    {
        var key = new byte[9];
        key[0] = OperationTag;
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(1), id);
        return key;
    }

    /// <summary>[start, end) of every operation row.</summary>
    public static (byte[] Start, byte[] End) Operations => ([OperationTag], [OperationTag + 1]);
}
