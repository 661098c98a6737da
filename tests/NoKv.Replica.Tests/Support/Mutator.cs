using System.Buffers.Binary;

namespace NoKv.Replica.Tests.Support;

/// <summary>
/// Damages a valid encoding the ways a fuzzer would: truncation, bit flips, hostile values in 4-byte windows
/// (where lengths and counts live), inserted, deleted and appended bytes, or fresh random bytes.
/// </summary>
public static class Mutator
{
    /// <summary>Values a hostile or broken sender would put in a length or count field.</summary>
    public static readonly int[] HostileLengths = [int.MaxValue, int.MinValue, -1, 0x7FFF_FFF0, 1 << 30, 0, 1, 0x10000];

    public static byte[] Mutate(Random random, byte[] valid, out string how)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(7))
        {
            case 0:
                int keep = random.Next(bytes.Length);
                how = $"truncated to {keep} of {bytes.Length}";
                return bytes[..keep];
            case 1:
                int flips = 1 + random.Next(3);
                how = $"{flips} bit flips";
                for (int i = 0; i < flips && bytes.Length > 0; i++)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 2:
                if (bytes.Length < 4)
                {
                    goto case 1;
                }

                int at = random.Next(bytes.Length - 3);
                int value = random.Next(3) == 0 ? random.Next(int.MinValue, int.MaxValue) : HostileLengths[random.Next(HostileLengths.Length)];
                how = $"int {value} written at {at}";
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), value);
                return bytes;
            case 3:
                int insertAt = random.Next(bytes.Length + 1);
                var inserted = RandomBytes(random, 1 + random.Next(16));
                how = $"{inserted.Length} bytes inserted at {insertAt}";
                return [.. bytes[..insertAt], .. inserted, .. bytes[insertAt..]];
            case 4:
                int from = random.Next(bytes.Length + 1);
                int length = random.Next(bytes.Length - from + 1);
                how = $"{length} bytes deleted at {from}";
                return [.. bytes[..from], .. bytes[(from + length)..]];
            case 5:
                var tail = RandomBytes(random, 1 + random.Next(32));
                how = $"{tail.Length} bytes appended";
                return [.. bytes, .. tail];
            default:
                var fresh = RandomBytes(random, random.Next(2 * bytes.Length + 8));
                how = $"{fresh.Length} random bytes keeping the first byte";
                if (fresh.Length > 0 && bytes.Length > 0)
                {
                    fresh[0] = bytes[0];
                }

                return fresh;
        }
    }

    public static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}
