using System.Buffers.Binary;

namespace NoKv.Replica.Commands;

/// <summary>
/// A lock service command (docs/locks.md); byte by byte in docs/format-commands.md. Little-endian, after the
/// envelope header of its type:
/// <code>
/// AcquireLock (40)      = epoch (8) | name | owner (16) | lease ms (8) | wait (1)
/// RenewLock (41)        = epoch (8) | name | owner (16) | token (8)
/// ReleaseLock (42)      = epoch (8) | name | owner (16)
/// ExpireLock (43)       = epoch (8) | name | token (8) | lease sequence (8)
/// ExpireLockWaiter (44) = epoch (8) | name | owner (16)
/// name                  = length (4) | bytes
/// </code>
/// ExpireLock and ExpireLockWaiter are proposed by the lock's leader when its own monotonic clock says a lease or a
/// waiter ran out; the decision travels in the entry, so every replica applies the same result whatever its clock.
/// </summary>
internal sealed record LockCommand(CommandType Type, long Epoch, byte[] Name, Guid Owner = default, long Token = 0, long LeaseSeq = 0, long LeaseMs = 0, bool Wait = false)
{
    public static bool IsLockType(CommandType type) => type is >= CommandType.AcquireLock and <= CommandType.ExpireLockWaiter;

    public byte[] Encode()
    {
        int size = CommandEnvelope.HeaderSize + 8 + 4 + Name.Length + Type switch
        {
            CommandType.AcquireLock => 16 + 8 + 1,
            CommandType.RenewLock => 16 + 8,
            CommandType.ReleaseLock or CommandType.ExpireLockWaiter => 16,
            CommandType.ExpireLock => 8 + 8,
            _ => throw new InvalidOperationException($"{Type} is not a lock command."),
        };
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        CommandEnvelope.WriteHeader(span, Type);
        int at = CommandEnvelope.HeaderSize;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], Epoch);
        at += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Name.Length);
        Name.CopyTo(span[(at + 4)..]);
        at += 4 + Name.Length;
        switch (Type)
        {
            case CommandType.AcquireLock:
                Owner.TryWriteBytes(span[at..]);
                BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], LeaseMs);
                span[at + 24] = Wait ? (byte)1 : (byte)0;
                break;
            case CommandType.RenewLock:
                Owner.TryWriteBytes(span[at..]);
                BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], Token);
                break;
            case CommandType.ReleaseLock or CommandType.ExpireLockWaiter:
                Owner.TryWriteBytes(span[at..]);
                break;
            case CommandType.ExpireLock:
                BinaryPrimitives.WriteInt64LittleEndian(span[at..], Token);
                BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], LeaseSeq);
                break;
        }

        return buffer;
    }

    /// <summary>Decodes the body of an entry whose header is <paramref name="header"/> (a lock type). The name is a copy.</summary>
    /// <exception cref="CommandFormatException">The body is cut short, has trailing bytes or an out-of-range field.</exception>
    public static LockCommand Decode(CommandHeader header, ReadOnlySpan<byte> entry)
    {
        if (!IsLockType(header.Type) || header.IsLegacy)
        {
            throw new CommandFormatException($"Log entry holds a {header.Type} command, not a lock command.");
        }

        var body = entry[header.BodyOffset..];
        if (body.Length < 12)
        {
            throw Malformed(header.Type, "is truncated");
        }

        long epoch = BinaryPrimitives.ReadInt64LittleEndian(body);
        int nameLength = BinaryPrimitives.ReadInt32LittleEndian(body[8..]);
        if (nameLength < 0 || nameLength > body.Length - 12)
        {
            throw Malformed(header.Type, $"has a name length past its end: {nameLength}");
        }

        var name = body.Slice(12, nameLength).ToArray();
        var rest = body[(12 + nameLength)..];
        int expected = header.Type switch
        {
            CommandType.AcquireLock => 25,
            CommandType.RenewLock => 24,
            CommandType.ExpireLock => 16,
            _ => 16,
        };
        if (rest.Length != expected)
        {
            throw Malformed(header.Type, $"has {rest.Length} bytes after the name; it has {expected}");
        }

        switch (header.Type)
        {
            case CommandType.AcquireLock:
                if (rest[24] > 1)
                {
                    throw Malformed(header.Type, $"has a wait flag other than 0 or 1: {rest[24]}");
                }

                return new LockCommand(header.Type, epoch, name, new Guid(rest[..16]), LeaseMs: BinaryPrimitives.ReadInt64LittleEndian(rest[16..]), Wait: rest[24] == 1);
            case CommandType.RenewLock:
                return new LockCommand(header.Type, epoch, name, new Guid(rest[..16]), Token: BinaryPrimitives.ReadInt64LittleEndian(rest[16..]));
            case CommandType.ExpireLock:
                return new LockCommand(header.Type, epoch, name, Token: BinaryPrimitives.ReadInt64LittleEndian(rest), LeaseSeq: BinaryPrimitives.ReadInt64LittleEndian(rest[8..]));
            default:
                return new LockCommand(header.Type, epoch, name, new Guid(rest[..16]));
        }
    }

    private static CommandFormatException Malformed(CommandType type, string what) => new($"{type} command {what}.");
}
