using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NoKv.Storage.Encoding;

/// <summary>
/// Fixed-width little-endian integers, the byte order of every on-disk format in the engine.
/// Reads and writes throw <see cref="ArgumentOutOfRangeException"/> when the span is too short; callers
/// decoding stored bytes check lengths first and report <see cref="CorruptionException"/> themselves.
/// </summary>
public static class Fixed
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write32(Span<byte> destination, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(destination, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write64(Span<byte> destination, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(destination, value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Read32(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt32LittleEndian(source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Read64(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt64LittleEndian(source);
}
