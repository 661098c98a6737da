namespace NoKv.Chaos.Workload;

/// <summary>
/// The four register operations the workload drives, on the system under test (NoKV through its SDK, or etcd for the
/// anchor). Each call either returns what the system acknowledged or throws, in which case the client does not know
/// whether a write took effect. Implementations are thread-safe.
/// </summary>
public interface IKvTarget
{
    /// <summary>Linearizable read; null for absent.</summary>
    Task<byte[]?> GetAsync(byte[] key);

    Task PutAsync(byte[] key, byte[] value);

    Task DeleteAsync(byte[] key);

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> (null: deletes it) if it holds <paramref name="expected"/> (null: absent).</summary>
    Task<bool> CompareAndSwapAsync(byte[] key, byte[]? expected, byte[]? value);
}
