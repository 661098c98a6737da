using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace NoKv.Storage.Encoding;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of every block, log record and
/// manifest record. Uses the SSE4.2 or ARMv8 CRC32 instructions when present, otherwise a slicing-by-8
/// table. All paths produce identical values (the on-disk format depends on it); thread-safe.
/// </summary>
/// <remarks>
/// Stored checksums go through <see cref="Mask"/>: computing the CRC of bytes that themselves contain an
/// unmasked CRC (for example a block that embeds another block's checksum) is degenerate, so what is
/// written is a rotated and offset form of the CRC. Formats: docs/format-sstable.md.
/// </remarks>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;

    // Added to the rotated CRC by Mask. Part of the on-disk format: never change.
    private const uint MaskDelta = 0xA282EAD8u;

    // Table[k][b] = CRC contribution of byte b followed by k zero bytes; slicing-by-8 consumes 8 bytes
    // per step with 8 independent lookups.
    private static readonly uint[] Table = BuildTable();

    // The hardware paths checksum three adjacent segments of this many bytes as three independent
    // instruction chains (the CRC instruction has a latency of 3 cycles but a throughput of 1, so one chain
    // leaves two thirds of the unit idle), then merge the three states with ShiftTable.
    private const int StreamBytes = 256;

    // ShiftTable[k][b] = the raw CRC state reached from state (b << 8k) after StreamBytes zero bytes. CRC
    // state updates are linear over GF(2), so shifting any state is the XOR of four lookups, and
    // process(s, A || B) = shift(process(s, A), |B|) ^ process(0, B).
    private static readonly uint[] ShiftTable = BuildShiftTable(StreamBytes);

    /// <summary>CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Extend(0, data);

    /// <summary>
    /// CRC-32C of the concatenation A + <paramref name="data"/>, given <paramref name="crc"/> = CRC-32C(A).
    /// <c>Extend(0, x) == Compute(x)</c>.
    /// </summary>
    public static uint Extend(uint crc, ReadOnlySpan<byte> data)
    {
        uint state = ~crc;
        if (X86Sse42.X64.IsSupported)
        {
            state = ExtendSse42X64(state, data);
        }
        else if (X86Sse42.IsSupported)
        {
            state = ExtendSse42(state, data);
        }
        else if (ArmCrc32.Arm64.IsSupported)
        {
            state = ExtendArm64(state, data);
        }
        else
        {
            state = ExtendSoftware(state, data);
        }

        return ~state;
    }

    /// <summary>The form of a CRC that is stored on disk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Mask(uint crc) => ((crc >> 15) | (crc << 17)) + MaskDelta;

    /// <summary>Inverse of <see cref="Mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Unmask(uint maskedCrc)
    {
        uint rotated = maskedCrc - MaskDelta;
        return (rotated >> 17) | (rotated << 15);
    }

    /// <summary>Software path, exposed so tests can check it against the hardware path.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~ExtendSoftware(~0u, data);

    private static uint ExtendSse42X64(uint state, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        ulong s = state;

        for (; i + (3 * StreamBytes) <= length; i += 3 * StreamBytes)
        {
            ulong b = 0;
            ulong c = 0;
            ref byte segment = ref Unsafe.Add(ref p, i);
            for (nuint j = 0; j < StreamBytes; j += 8)
            {
                s = X86Sse42.X64.Crc32(s, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j)));
                b = X86Sse42.X64.Crc32(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j + StreamBytes)));
                c = X86Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j + (2 * StreamBytes))));
            }

            s = Shift(Shift((uint)s) ^ (uint)b) ^ (uint)c;
        }

        for (; i + 8 <= length; i += 8)
        {
            s = X86Sse42.X64.Crc32(s, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }

        uint s32 = (uint)s;
        for (; i < length; i++)
        {
            s32 = X86Sse42.Crc32(s32, Unsafe.Add(ref p, i));
        }

        return s32;
    }

    private static uint ExtendSse42(uint state, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;
        for (; i + 4 <= length; i += 4)
        {
            state = X86Sse42.Crc32(state, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)));
        }

        for (; i < length; i++)
        {
            state = X86Sse42.Crc32(state, Unsafe.Add(ref p, i));
        }

        return state;
    }

    private static uint ExtendArm64(uint state, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length;
        nuint i = 0;

        for (; i + (3 * StreamBytes) <= length; i += 3 * StreamBytes)
        {
            uint b = 0;
            uint c = 0;
            ref byte segment = ref Unsafe.Add(ref p, i);
            for (nuint j = 0; j < StreamBytes; j += 8)
            {
                state = ArmCrc32.Arm64.ComputeCrc32C(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j)));
                b = ArmCrc32.Arm64.ComputeCrc32C(b, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j + StreamBytes)));
                c = ArmCrc32.Arm64.ComputeCrc32C(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref segment, j + (2 * StreamBytes))));
            }

            state = Shift(Shift(state) ^ b) ^ c;
        }

        for (; i + 8 <= length; i += 8)
        {
            state = ArmCrc32.Arm64.ComputeCrc32C(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }

        for (; i < length; i++)
        {
            state = ArmCrc32.ComputeCrc32C(state, Unsafe.Add(ref p, i));
        }

        return state;
    }

    /// <summary>Advances a raw CRC state over <see cref="StreamBytes"/> zero bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Shift(uint state)
    {
        uint[] t = ShiftTable;
        return t[state & 0xFF] ^ t[256 + ((state >> 8) & 0xFF)] ^ t[512 + ((state >> 16) & 0xFF)] ^ t[768 + (state >> 24)];
    }

    private static uint ExtendSoftware(uint state, ReadOnlySpan<byte> data)
    {
        uint[] t = Table;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            uint lo = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i)) ^ state;
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i + 4));
            state = t[(7 * 256) + (lo & 0xFF)]
                ^ t[(6 * 256) + ((lo >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((lo >> 16) & 0xFF)]
                ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xFF)]
                ^ t[(2 * 256) + ((hi >> 8) & 0xFF)]
                ^ t[256 + ((hi >> 16) & 0xFF)]
                ^ t[hi >> 24];
        }

        for (; i < data.Length; i++)
        {
            state = t[(state ^ data[i]) & 0xFF] ^ (state >> 8);
        }

        return state;
    }

    private static uint[] BuildShiftTable(int zeroBytes)
    {
        // Shift each of the 32 single-bit states once, then combine by linearity.
        uint[] table = Table;
        Span<uint> basis = stackalloc uint[32];
        for (int bit = 0; bit < 32; bit++)
        {
            uint state = 1u << bit;
            for (int n = 0; n < zeroBytes; n++)
            {
                state = table[state & 0xFF] ^ (state >> 8);
            }

            basis[bit] = state;
        }

        var shift = new uint[4 * 256];
        for (int k = 0; k < 4; k++)
        {
            for (int b = 0; b < 256; b++)
            {
                uint value = 0;
                for (int bit = 0; bit < 8; bit++)
                {
                    if ((b & (1 << bit)) != 0)
                    {
                        value ^= basis[(8 * k) + bit];
                    }
                }

                shift[(k * 256) + b] = value;
            }
        }

        return shift;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint b = 0; b < 256; b++)
        {
            uint crc = b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            }

            table[b] = crc;
        }

        for (int slice = 1; slice < 8; slice++)
        {
            for (int b = 0; b < 256; b++)
            {
                uint previous = table[((slice - 1) * 256) + b];
                table[(slice * 256) + b] = table[previous & 0xFF] ^ (previous >> 8);
            }
        }

        return table;
    }
}
