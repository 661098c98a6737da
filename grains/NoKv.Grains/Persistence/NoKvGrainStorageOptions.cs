using Orleans.Storage;

namespace NoKv.Grains.Persistence;

/// <summary>Options of one named NoKV grain storage provider.</summary>
public sealed class NoKvGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>Serializer for grain state; defaults to the silo's Orleans serializer when left null.</summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;

    /// <summary>Whether a state write waits for fsync (true, the default) or only for the engine's WAL append.</summary>
    public bool SyncWrites { get; set; } = true;

    /// <summary>Largest serialized state accepted; bigger writes fail with a clear error instead of bloating the engine.</summary>
    public int MaxStateBytes { get; set; } = 16 << 20;
}
