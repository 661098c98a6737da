using System.Buffers.Binary;

namespace NoKv.Replica.Mvcc;

/// <summary>
/// Engine keys of the MVCC data rows (docs/format-data-rows.md). Every row of a user key starts with the key's
/// <em>base</em>: the data prefix, then the user key escaped so that engine order equals user-key order and no
/// base is a prefix of another:
/// <code>
/// base    = prefix (1) | escaped user key | 0x00 0x01        escaped: each 0x00 byte becomes 0x00 0xFF
/// lock    = base | 'L'                                     at most one transaction lock per key
/// status  = base | 'S' | ~startTs (8, big-endian)           a transaction's outcome, kept on its primary key
/// version = base | 'V' | ~commitTs (8, big-endian)          one committed value (or tombstone) per version
/// floor   = base | 'W'                                     the shard's timestamp floor, on the shard's start key
/// </code>
/// Timestamps are stored inverted (~ts, big-endian), so a key's versions run newest first and seeking to
/// <c>version(base, T)</c> lands on the newest version at or below T. Tags are on disk: never renumber.
/// </summary>
internal static class MvccKeys
{
    public const byte LockTag = (byte)'L';
    public const byte StatusTag = (byte)'S';
    public const byte VersionTag = (byte)'V';
    public const byte FloorTag = (byte)'W';

    /// <summary>The base of <paramref name="userKey"/> under engine prefix <paramref name="prefix"/>.</summary>
    public static byte[] Base(byte prefix, ReadOnlySpan<byte> userKey) => WithSuffix(prefix, userKey, 0);

    /// <summary>Length of the base of <paramref name="userKey"/>.</summary>
    public static int BaseLength(ReadOnlySpan<byte> userKey)
    {
        int zeros = 0;
        foreach (byte b in userKey)
        {
            if (b == 0)
            {
                zeros++;
            }
        }

        return 1 + userKey.Length + zeros + 2;
    }

    public static byte[] Lock(byte prefix, ReadOnlySpan<byte> userKey)
    {
        var key = WithSuffix(prefix, userKey, 1);
        key[^1] = LockTag;
        return key;
    }

    public static byte[] Floor(byte prefix, ReadOnlySpan<byte> userKey)
    {
        var key = WithSuffix(prefix, userKey, 1);
        key[^1] = FloorTag;
        return key;
    }

    public static byte[] Version(byte prefix, ReadOnlySpan<byte> userKey, long commitTs) => Timestamped(prefix, userKey, VersionTag, commitTs);

    public static byte[] Status(byte prefix, ReadOnlySpan<byte> userKey, long startTs) => Timestamped(prefix, userKey, StatusTag, startTs);

    /// <summary>A key just past every row of the base <paramref name="baseKey"/> (all tags sort below 0xFF).</summary>
    public static byte[] AfterBase(ReadOnlySpan<byte> baseKey)
    {
        var key = new byte[baseKey.Length + 1];
        baseKey.CopyTo(key);
        key[^1] = 0xFF;
        return key;
    }

    /// <summary>
    /// Splits an engine data row key into its base length, tag and timestamp (0 for untimed tags).
    /// Returns false for a key that is not a well-formed MVCC row (an older format's row, corruption).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> engineKey, out int baseLength, out byte tag, out long ts)
    {
        baseLength = 0;
        tag = 0;
        ts = 0;
        int i = 1;
        while (true)
        {
            int zero = engineKey[i..].IndexOf((byte)0);
            if (zero < 0)
            {
                return false;
            }

            i += zero;
            if (i + 1 >= engineKey.Length)
            {
                return false;
            }

            if (engineKey[i + 1] == 0xFF)
            {
                i += 2;
                continue;
            }

            if (engineKey[i + 1] != 0x01)
            {
                return false;
            }

            baseLength = i + 2;
            break;
        }

        if (baseLength >= engineKey.Length)
        {
            return false;
        }

        tag = engineKey[baseLength];
        int rest = engineKey.Length - baseLength - 1;
        switch (tag)
        {
            case LockTag or FloorTag:
                return rest == 0;
            case VersionTag or StatusTag:
                if (rest != 8)
                {
                    return false;
                }

                ts = (long)~BinaryPrimitives.ReadUInt64BigEndian(engineKey[(baseLength + 1)..]);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The user key of a base (the engine key's first <paramref name="baseLength"/> bytes).</summary>
    public static byte[] UserKey(ReadOnlySpan<byte> engineKey, int baseLength)
    {
        var body = engineKey[1..(baseLength - 2)];
        int zeros = 0;
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] == 0)
            {
                zeros++;
                i++;
            }
        }

        var key = new byte[body.Length - zeros];
        int at = 0;
        for (int i = 0; i < body.Length; i++)
        {
            key[at++] = body[i];
            if (body[i] == 0)
            {
                i++;
            }
        }

        return key;
    }

    private static byte[] Timestamped(byte prefix, ReadOnlySpan<byte> userKey, byte tag, long ts)
    {
        var key = WithSuffix(prefix, userKey, 9);
        key[^9] = tag;
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(key.Length - 8), ~(ulong)ts);
        return key;
    }

    private static byte[] WithSuffix(byte prefix, ReadOnlySpan<byte> userKey, int suffix)
    {
        var key = new byte[BaseLength(userKey) + suffix];
        key[0] = prefix;
        int at = 1;
        foreach (byte b in userKey)
        {
            key[at++] = b;
            if (b == 0)
            {
                key[at++] = 0xFF;
            }
        }

        key[at++] = 0x00;
        key[at] = 0x01;
        return key;
    }
}
