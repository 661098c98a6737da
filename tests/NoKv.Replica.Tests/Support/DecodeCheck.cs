using Xunit;

namespace NoKv.Replica.Tests.Support;

/// <summary>
/// The fuzz property of a decoder: every input either decodes or is refused with the decoder's typed exception;
/// nothing else escapes, and it allocates at most a small multiple of the input's length (plus room for the
/// exception). A count or length taken from the input without a check against the bytes that remain would
/// allocate gigabytes, or throw OutOfMemoryException, and fail here.
/// </summary>
public static class DecodeCheck
{
    public static long AllocationBound(int inputLength) => (8L * inputLength) + (64 << 10);

    /// <summary>True if <paramref name="decode"/> returned, false if it threw an exception <paramref name="isTyped"/> accepts.</summary>
    public static bool DecodesOrRefuses(Action decode, Func<Exception, bool> isTyped, int inputLength, string context)
    {
        bool decoded = false;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            decode();
            decoded = true;
        }
        catch (Exception e) when (isTyped(e))
        {
        }
        catch (Exception e)
        {
            Assert.Fail($"{context}: {e.GetType().Name} escaped the decoder: {e}");
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= AllocationBound(inputLength), $"{context}: decoding {inputLength} bytes allocated {allocated} bytes");
        return decoded;
    }
}
