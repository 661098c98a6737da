using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NoKv.Grains.Store;
using NoKv.Storage;
using Orleans.Runtime;
using Orleans.Storage;

namespace NoKv.Grains.Persistence;

/// <summary>
/// Orleans grain storage in the silo's NoKV engine. State is local to the silo's store (not replicated):
/// use it for grains whose placement keeps them on one silo, or accept that another silo starts from empty.
/// Record format under key <c>0x03 | provider name | 0x00 | state name | 0x00 | grain id (UTF-8)</c>:
/// <c>version (8 bytes, little-endian) | serialized state</c>. The ETag is the version in decimal; a write
/// whose ETag does not match the stored version fails with <see cref="InconsistentStateException"/>.
/// Thread-safe: read-check-write of one key is serialized by a striped lock.
/// </summary>
public sealed class NoKvGrainStorage : IGrainStorage
{
    internal const byte KeyPrefix = 0x03;
    private readonly string _name;
    private readonly NoKvGrainStorageOptions _options;
    private readonly LocalStore _store;
    private readonly SemaphoreSlim[] _stripes;

    public NoKvGrainStorage(string name, NoKvGrainStorageOptions options, LocalStore store)
    {
        _name = name;
        _options = options;
        _store = store;
        _stripes = new SemaphoreSlim[64];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new SemaphoreSlim(1, 1);
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] key = Key(stateName, grainId);
        byte[]? record = _store.Database.Get(key);
        if (record is null)
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }

        long version = BinaryPrimitives.ReadInt64LittleEndian(record);
        grainState.State = _options.GrainStorageSerializer.Deserialize<T>(new BinaryData(record.AsMemory(8)));
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] key = Key(stateName, grainId);
        var payload = _options.GrainStorageSerializer.Serialize(grainState.State).ToMemory();
        if (payload.Length > _options.MaxStateBytes)
        {
            throw new InvalidOperationException($"NoKV grain storage '{_name}': state of {grainId} is {payload.Length} bytes; MaxStateBytes is {_options.MaxStateBytes}.");
        }

        var stripe = Stripe(key);
        await stripe.WaitAsync().ConfigureAwait(false);
        try
        {
            long version = CheckETag(key, grainState.ETag, grainId) + 1;
            byte[] record = new byte[8 + payload.Length];
            BinaryPrimitives.WriteInt64LittleEndian(record, version);
            payload.Span.CopyTo(record.AsSpan(8));
            var batch = new WriteBatch();
            batch.Put(key, record);
            await _store.Database.WriteAsync(batch, _options.SyncWrites ? WriteOptions.Synced : WriteOptions.Default).ConfigureAwait(false);
            grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        finally
        {
            stripe.Release();
        }
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] key = Key(stateName, grainId);
        var stripe = Stripe(key);
        await stripe.WaitAsync().ConfigureAwait(false);
        try
        {
            CheckETag(key, grainState.ETag, grainId);
            var batch = new WriteBatch();
            batch.Delete(key);
            await _store.Database.WriteAsync(batch, _options.SyncWrites ? WriteOptions.Synced : WriteOptions.Default).ConfigureAwait(false);
            grainState.ETag = null;
            grainState.RecordExists = false;
            grainState.State = Activator.CreateInstance<T>();
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>Returns the stored version (0 when absent) after checking it against <paramref name="etag"/>.</summary>
    private long CheckETag(byte[] key, string? etag, GrainId grainId)
    {
        byte[]? current = _store.Database.Get(key);
        long stored = current is null ? 0 : BinaryPrimitives.ReadInt64LittleEndian(current);
        string? storedEtag = current is null ? null : stored.ToString(CultureInfo.InvariantCulture);
        if (!string.Equals(storedEtag, etag, StringComparison.Ordinal))
        {
            throw new InconsistentStateException($"NoKV grain storage '{_name}': ETag mismatch for {grainId}.", storedEtag ?? "(none)", etag ?? "(none)");
        }

        return stored;
    }

    private byte[] Key(string stateName, GrainId grainId)
    {
        string id = grainId.ToString();
        int nameLength = Encoding.UTF8.GetByteCount(_name);
        int stateLength = Encoding.UTF8.GetByteCount(stateName);
        var key = new byte[1 + nameLength + 1 + stateLength + 1 + Encoding.UTF8.GetByteCount(id)];
        key[0] = KeyPrefix;
        int at = 1 + Encoding.UTF8.GetBytes(_name, key.AsSpan(1));
        key[at++] = 0;
        at += Encoding.UTF8.GetBytes(stateName, key.AsSpan(at));
        key[at++] = 0;
        Encoding.UTF8.GetBytes(id, key.AsSpan(at));
        return key;
    }

    private SemaphoreSlim Stripe(byte[] key)
    {
        uint hash = 2166136261;
        foreach (byte b in key)
        {
            hash = (hash ^ b) * 16777619;
        }

        return _stripes[hash % (uint)_stripes.Length];
    }
}
