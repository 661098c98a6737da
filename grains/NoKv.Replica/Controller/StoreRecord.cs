using System.Buffers.Binary;
using System.Text;
using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller;

/// <summary>
/// A store as committed in the controller (row <see cref="ControllerRows.Store"/>, docs/format-controller.md).
/// Only state transitions are committed; the live heartbeat and load stay in the controller logic's memory, so
/// <see cref="LastHeartbeatUnixMs"/> is the last heartbeat known when the state last changed.
/// <code>
/// version (1) = 1 | store id (4) | state (1) | state since, Unix ms (8) | last heartbeat, Unix ms (8)
///   | capacity bytes (8) | address length (2) | address (UTF-8)          little-endian
/// </code>
/// </summary>
public sealed record StoreRecord(StoreId Id, StoreState State, long StateSinceUnixMs, long LastHeartbeatUnixMs, long CapacityBytes, string Address)
{
    private const byte Version = 1;
    private const int Fixed = 1 + 4 + 1 + 8 + 8 + 8 + 2;

    public byte[] Encode()
    {
        var address = Encoding.UTF8.GetBytes(Address);
        if (address.Length > ushort.MaxValue)
        {
            throw new ArgumentException($"Store {Id}'s address is too long ({address.Length} bytes).");
        }

        var row = new byte[Fixed + address.Length];
        var span = row.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], Id.Value);
        span[5] = (byte)State;
        BinaryPrimitives.WriteInt64LittleEndian(span[6..], StateSinceUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], LastHeartbeatUnixMs);
        BinaryPrimitives.WriteInt64LittleEndian(span[22..], CapacityBytes);
        BinaryPrimitives.WriteUInt16LittleEndian(span[30..], (ushort)address.Length);
        address.CopyTo(span[Fixed..]);
        return row;
    }

    /// <exception cref="InvalidDataException">Not a store row this build can read.</exception>
    public static StoreRecord Decode(ReadOnlySpan<byte> row)
    {
        if (row.Length < Fixed || row[0] != Version)
        {
            throw new InvalidDataException(row.IsEmpty ? "empty store row" : $"store row of version {row[0]} and {row.Length} bytes is unknown to this build");
        }

        var id = new StoreId(BinaryPrimitives.ReadInt32LittleEndian(row[1..]));
        var state = (StoreState)row[5];
        if (!id.IsValid || state is not (StoreState.Up or StoreState.Down or StoreState.Decommissioning or StoreState.Removed))
        {
            throw new InvalidDataException($"store row names store {id.Value} in state {row[5]}");
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(row[30..]);
        if (row.Length != Fixed + length)
        {
            throw new InvalidDataException($"store row of store {id} is {row.Length} bytes, its address says {Fixed + length}");
        }

        return new StoreRecord(
            id,
            state,
            BinaryPrimitives.ReadInt64LittleEndian(row[6..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[14..]),
            BinaryPrimitives.ReadInt64LittleEndian(row[22..]),
            Encoding.UTF8.GetString(row[Fixed..]));
    }
}
