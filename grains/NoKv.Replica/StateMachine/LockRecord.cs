using System.Buffers.Binary;

namespace NoKv.Replica.StateMachine;

/// <summary>
/// One lock's replicated state, the value of its row <c>0x05 | name</c> (docs/locks.md, "Format"):
/// <code>
/// version (1) = 1 | last token (8) | lease sequence (8) | has holder (1)
///   [holder owner (16) | holder token (8) | holder lease ms (8)] | waiter count (4) | (owner (16) | lease ms (8))*
/// </code>
/// Little-endian. Invariants: <see cref="LastToken"/> only grows and equals the holder's token while one holds the
/// lock (every grant takes the next token); no waiters without a holder (a release hands the lock to the first
/// waiter at once); an owner appears at most once. <see cref="LeaseSeq"/> grows with every grant and renewal, so a
/// leader's expiry decision names the exact lease it saw run out and is void if the holder renewed meanwhile.
/// The row is kept after the lock is released, since the token counter must never restart.
/// Not thread-safe (state machine use only).
/// </summary>
internal sealed class LockRecord
{
    private const byte Version = 1;

    public long LastToken { get; set; }

    public long LeaseSeq { get; set; }

    public LockHolder? Holder { get; set; }

    public List<LockWaiter> Waiters { get; } = new();

    /// <summary>1-based place of <paramref name="owner"/> in the queue, 0 if it is not waiting.</summary>
    public int PositionOf(Guid owner)
    {
        for (int i = 0; i < Waiters.Count; i++)
        {
            if (Waiters[i].Owner == owner)
            {
                return i + 1;
            }
        }

        return 0;
    }

    /// <summary>Hands the lock to the next waiter (with the next token), or leaves it free.</summary>
    public void GrantNext()
    {
        Holder = null;
        if (Waiters.Count == 0)
        {
            return;
        }

        var next = Waiters[0];
        Waiters.RemoveAt(0);
        Grant(next.Owner, next.LeaseMs);
    }

    public void Grant(Guid owner, long leaseMs)
    {
        LastToken++;
        LeaseSeq++;
        Holder = new LockHolder(owner, LastToken, leaseMs);
    }

    public byte[] Encode()
    {
        var holder = Holder;
        var value = new byte[1 + 8 + 8 + 1 + (holder is null ? 0 : 32) + 4 + (Waiters.Count * 24)];
        var span = value.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], LastToken);
        BinaryPrimitives.WriteInt64LittleEndian(span[9..], LeaseSeq);
        int at = 17;
        span[at++] = holder is null ? (byte)0 : (byte)1;
        if (holder is { } h)
        {
            h.Owner.TryWriteBytes(span[at..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], h.Token);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 24)..], h.LeaseMs);
            at += 32;
        }

        BinaryPrimitives.WriteInt32LittleEndian(span[at..], Waiters.Count);
        at += 4;
        foreach (var waiter in Waiters)
        {
            waiter.Owner.TryWriteBytes(span[at..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], waiter.LeaseMs);
            at += 24;
        }

        return value;
    }

    /// <exception cref="InvalidDataException">Not a lock record this build reads.</exception>
    public static LockRecord Decode(ReadOnlySpan<byte> value)
    {
        if (value.Length < 22 || value[0] != Version || value[17] > 1)
        {
            throw new InvalidDataException($"Lock record of {value.Length} bytes is not a version {Version} record.");
        }

        var record = new LockRecord
        {
            LastToken = BinaryPrimitives.ReadInt64LittleEndian(value[1..]),
            LeaseSeq = BinaryPrimitives.ReadInt64LittleEndian(value[9..]),
        };
        int at = 18;
        if (value[17] == 1)
        {
            if (value.Length < at + 32 + 4)
            {
                throw new InvalidDataException("Lock record is truncated inside its holder.");
            }

            record.Holder = new LockHolder(new Guid(value.Slice(at, 16)), BinaryPrimitives.ReadInt64LittleEndian(value[(at + 16)..]), BinaryPrimitives.ReadInt64LittleEndian(value[(at + 24)..]));
            at += 32;
        }

        int count = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
        at += 4;
        if (count < 0 || (long)count * 24 != value.Length - at)
        {
            throw new InvalidDataException($"Lock record names {count} waiters in {value.Length - at} bytes.");
        }

        for (int i = 0; i < count; i++, at += 24)
        {
            record.Waiters.Add(new LockWaiter(new Guid(value.Slice(at, 16)), BinaryPrimitives.ReadInt64LittleEndian(value[(at + 16)..])));
        }

        return record;
    }
}
