using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class ArgumentValidationTests
{
    public static IEnumerable<object[]> BadOptions()
    {
        yield return [nameof(StorageOptions.MemtableSizeBytes), new StorageOptions { MemtableSizeBytes = 10 }];
        yield return [nameof(StorageOptions.MaxImmutableMemtables), new StorageOptions { MaxImmutableMemtables = 0 }];
        yield return [nameof(StorageOptions.BlockCacheBytes), new StorageOptions { BlockCacheBytes = -1 }];
        yield return [nameof(StorageOptions.MaxOpenTables), new StorageOptions { MaxOpenTables = 1 }];
        yield return [nameof(StorageOptions.BloomBitsPerKey), new StorageOptions { BloomBitsPerKey = -1 }];
        yield return [nameof(StorageOptions.BlockSizeBytes), new StorageOptions { BlockSizeBytes = 1 }];
        yield return [nameof(StorageOptions.BlockRestartInterval), new StorageOptions { BlockRestartInterval = 0 }];
        yield return [nameof(StorageOptions.TargetFileSizeBytes), new StorageOptions { TargetFileSizeBytes = 5 }];
        yield return [nameof(StorageOptions.Level0CompactionTrigger), new StorageOptions { Level0CompactionTrigger = 0 }];
        yield return [nameof(StorageOptions.Level0SlowdownTrigger), new StorageOptions { Level0CompactionTrigger = 8, Level0SlowdownTrigger = 4 }];
        yield return [nameof(StorageOptions.Level0StopTrigger), new StorageOptions { Level0SlowdownTrigger = 20, Level0StopTrigger = 10 }];
        yield return [nameof(StorageOptions.MaxBytesForLevelBase), new StorageOptions { MaxBytesForLevelBase = 0 }];
        yield return [nameof(StorageOptions.LevelSizeMultiplier), new StorageOptions { LevelSizeMultiplier = 1 }];
        yield return [nameof(StorageOptions.NumLevels), new StorageOptions { NumLevels = 1 }];
        yield return [nameof(StorageOptions.BackgroundThreadNice), new StorageOptions { BackgroundThreadNice = -1 }];
        yield return [nameof(StorageOptions.BackgroundThreadNice), new StorageOptions { BackgroundThreadNice = 20 }];
        yield return [nameof(StorageOptions.TableBytesPerSync), new StorageOptions { TableBytesPerSync = -1 }];
        yield return [nameof(StorageOptions.BackgroundWriteBytesPerSecond), new StorageOptions { BackgroundWriteBytesPerSecond = 1000 }];
        yield return [nameof(StorageOptions.BackgroundWriteBytesPerSecond), new StorageOptions { BackgroundWriteBytesPerSecond = -1 }];
        yield return [nameof(StorageOptions.LogDeleteStepBytes), new StorageOptions { LogDeleteStepBytes = -1 }];
        yield return [nameof(StorageOptions.ReadCompactionBytesPerSeek), new StorageOptions { ReadCompactionBytesPerSeek = 0 }];
        yield return [nameof(StorageOptions.ReadCompactionMinSeeks), new StorageOptions { ReadCompactionMinSeeks = 0 }];
        yield return [nameof(StorageOptions.ReadSamplePeriodBytes), new StorageOptions { ReadSamplePeriodBytes = -1 }];
        yield return [nameof(StorageOptions.WalRecoveryMode), new StorageOptions { WalRecoveryMode = (WalRecoveryMode)7 }];
    }

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Invalid_option_is_rejected_by_name_and_nothing_is_created(string name, StorageOptions options)
    {
        var fs = new MemFileSystem();
        var withFs = new StorageOptions
        {
            FileSystem = fs,
            MemtableSizeBytes = options.MemtableSizeBytes,
            MaxImmutableMemtables = options.MaxImmutableMemtables,
            BlockCacheBytes = options.BlockCacheBytes,
            MaxOpenTables = options.MaxOpenTables,
            BloomBitsPerKey = options.BloomBitsPerKey,
            BlockSizeBytes = options.BlockSizeBytes,
            BlockRestartInterval = options.BlockRestartInterval,
            TargetFileSizeBytes = options.TargetFileSizeBytes,
            Level0CompactionTrigger = options.Level0CompactionTrigger,
            Level0SlowdownTrigger = options.Level0SlowdownTrigger,
            Level0StopTrigger = options.Level0StopTrigger,
            MaxBytesForLevelBase = options.MaxBytesForLevelBase,
            LevelSizeMultiplier = options.LevelSizeMultiplier,
            NumLevels = options.NumLevels,
            BackgroundThreadNice = options.BackgroundThreadNice,
            TableBytesPerSync = options.TableBytesPerSync,
            BackgroundWriteBytesPerSecond = options.BackgroundWriteBytesPerSecond,
            LogDeleteStepBytes = options.LogDeleteStepBytes,
            ReadCompactionBytesPerSeek = options.ReadCompactionBytesPerSeek,
            ReadCompactionMinSeeks = options.ReadCompactionMinSeeks,
            ReadSamplePeriodBytes = options.ReadSamplePeriodBytes,
            WalRecoveryMode = options.WalRecoveryMode,
        };
        var e = Assert.Throws<ArgumentException>(() => Database.Open("/x", withFs));
        Assert.Equal(name, e.ParamName);
        Assert.False(fs.DirectoryExists("/x"));
    }

    [Fact]
    public void Bad_calls_throw_argument_exceptions_and_change_nothing()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/x", new StorageOptions { FileSystem = fs });
        db.Put("k"u8, "v"u8);
        Assert.Throws<ArgumentException>(() => db.DeleteRange("b"u8, "a"u8));
        Assert.Throws<ArgumentException>(() => db.CompactRange("b"u8, "a"u8));
        Assert.Throws<ArgumentNullException>(() => db.Write(null!));
        Assert.Throws<ArgumentException>(() => db.NewIterator(new ReadOptions { LowerBound = [2], UpperBound = [1] }));
        Assert.Throws<ArgumentException>(() => db.IngestRange("b"u8, "a"u8, new MemoryStream()));
        Assert.Throws<ArgumentException>(() => Database.Open("", new StorageOptions { FileSystem = fs }));
        var batch = new WriteBatch();
        Assert.Throws<ArgumentException>(() => batch.DeleteRange("z"u8, "a"u8));
        Assert.Equal(0, batch.Count);
        Assert.Equal("v"u8.ToArray(), db.Get("k"u8));
    }

    [Fact]
    public void Second_open_of_the_same_directory_fails_with_the_lock_path()
    {
        var fs = new MemFileSystem();
        using Database db = Database.Open("/x", new StorageOptions { FileSystem = fs });
        var e = Assert.Throws<StorageLockedException>(() => Database.Open("/x", new StorageOptions { FileSystem = fs }));
        Assert.Equal(Path.Combine("/x", "LOCK"), e.Path);
    }

    [Fact]
    public void Calls_after_dispose_throw_object_disposed()
    {
        var fs = new MemFileSystem();
        Database db = Database.Open("/x", new StorageOptions { FileSystem = fs });
        db.Dispose();
        db.Dispose();
        Assert.Throws<ObjectDisposedException>(() => db.Put("k"u8, "v"u8));
        Assert.Throws<ObjectDisposedException>(() => db.Get("k"u8));
        using Database again = Database.Open("/x", new StorageOptions { FileSystem = fs });
    }
}
