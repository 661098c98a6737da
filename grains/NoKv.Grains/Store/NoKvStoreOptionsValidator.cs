using Microsoft.Extensions.Options;

namespace NoKv.Grains.Store;

/// <summary>Rejects unusable store options at silo start with a message naming the setting.</summary>
public sealed class NoKvStoreOptionsValidator : IValidateOptions<NoKvStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, NoKvStoreOptions options)
    {
        var failures = new List<string>();
        if (options.StoreId <= 0)
        {
            failures.Add($"NoKV store: StoreId must be a positive integer, was {options.StoreId} (set NoKv:StoreId / NOKV_NoKv__StoreId / --store-id).");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add("NoKV store: DataDirectory must be set.");
        }

        if (options.MemtableSizeBytes < 64 * 1024)
        {
            failures.Add($"NoKV store: MemtableSizeBytes must be at least 64 KiB, was {options.MemtableSizeBytes}.");
        }

        if (options.BlockCacheBytes < 0)
        {
            failures.Add($"NoKV store: BlockCacheBytes must not be negative, was {options.BlockCacheBytes}.");
        }

        if (options.MemoryBudgetBytes != 0 && options.MemoryBudgetBytes < (1L << 20))
        {
            failures.Add($"NoKV store: MemoryBudgetBytes must be 0 (no budget) or at least 1 MiB, was {options.MemoryBudgetBytes}.");
        }

        if (options.BackgroundThreadNice is < 0 or > 19)
        {
            failures.Add($"NoKV store: BackgroundThreadNice must be between 0 and 19, was {options.BackgroundThreadNice}.");
        }

        if (options.TableBytesPerSync < 0)
        {
            failures.Add($"NoKV store: TableBytesPerSync must not be negative, was {options.TableBytesPerSync}.");
        }

        if (options.BackgroundWriteBytesPerSecond != 0 && options.BackgroundWriteBytesPerSecond < (1L << 20))
        {
            failures.Add($"NoKV store: BackgroundWriteBytesPerSecond must be 0 (unbounded) or at least 1 MiB/s, was {options.BackgroundWriteBytesPerSecond}.");
        }

        if (options.LogDeleteStepBytes < 0)
        {
            failures.Add($"NoKV store: LogDeleteStepBytes must not be negative, was {options.LogDeleteStepBytes}.");
        }

        if (options.SlowSyncThreshold < TimeSpan.Zero)
        {
            failures.Add($"NoKV store: SlowSyncThreshold must not be negative (zero turns slow-disk detection off), was {options.SlowSyncThreshold}.");
        }

        if (options.SlowSyncThreshold > TimeSpan.Zero && (options.SlowSyncCount < 1 || options.SlowDiskWindow <= TimeSpan.Zero || options.SlowDiskRecovery <= TimeSpan.Zero))
        {
            failures.Add($"NoKV store: SlowSyncCount must be at least 1 and SlowDiskWindow and SlowDiskRecovery positive, were {options.SlowSyncCount}, {options.SlowDiskWindow} and {options.SlowDiskRecovery}.");
        }

        if (!NoKvStoreOptions.TryParseCompression(options.Compression, out _))
        {
            failures.Add($"NoKV store: Compression must be a comma-separated list of none, lz4 and zstd, was '{options.Compression}'.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
