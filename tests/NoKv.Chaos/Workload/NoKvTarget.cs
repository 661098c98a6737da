using NoKv.Client;

namespace NoKv.Chaos.Workload;

/// <summary>The workload's operations through the NoKV SDK (which retries and routes on its own).</summary>
public sealed class NoKvTarget(IKvStore kv) : IKvTarget
{
    public Task<byte[]?> GetAsync(byte[] key) => kv.GetAsync(key);

    public Task PutAsync(byte[] key, byte[] value) => kv.PutAsync(key, value);

    public Task DeleteAsync(byte[] key) => kv.DeleteAsync(key);

    public Task<bool> CompareAndSwapAsync(byte[] key, byte[]? expected, byte[]? value) =>
        kv.CompareAndSwapAsync(key, Optional(expected), Optional(value));

    /// <summary>
    /// Absent for null. The explicit form matters: in <c>c ? null : memory</c> the null literal converts to an empty
    /// ReadOnlyMemory (through its conversion from byte[]), which is a present, empty value, not an absent one.
    /// </summary>
    private static ReadOnlyMemory<byte>? Optional(byte[]? value)
    {
        if (value is null)
        {
            return null;
        }

        return value;
    }
}
