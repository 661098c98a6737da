using NoKv.Storage.Tests.Support;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// Power loss at random points (MemFileSystem.CrashClone, optionally keeping random prefixes of unsynced
/// data) and I/O faults at random operations (FaultInjectingFileSystem). After reopening: every write whose
/// synced call returned is present, and the state equals the state after some prefix of the issued writes
/// (nothing reordered, nothing half-applied).
/// </summary>
public sealed class CrashConsistencyTests
{
    private const string Dir = "/crash";

    /// <summary>Two seeds in three also keep values of 24 bytes or more in value files (small ones, cut often).</summary>
    private static StorageOptions Options(IFileSystem fs, int seed) => new()
    {
        ValueLogMinValueBytes = seed % 3 == 0 ? 0 : 24,
        ValueFileSizeBytes = 2048,
        ValueLogGcBytesPerCompaction = seed % 2 == 0 ? 1024 : 64L << 20,
        FileSystem = fs,
        MemtableSizeBytes = 4096,
        TargetFileSizeBytes = 4096,
        BlockSizeBytes = 512,

        // Crash and power-loss safety must hold for compressed tables too: LZ4 at the top, Zstandard below.
        CompressionPerLevel = [NoKv.Storage.Sstable.CompressionType.Lz4, NoKv.Storage.Sstable.CompressionType.Zstd],
        MaxBytesForLevelBase = 16 << 10,
        Level0CompactionTrigger = 2,
        NumLevels = 4,
    };

    /// <summary>Write i puts key (i*7919 % 64) = value i (or deletes it when i % 11 == 0).</summary>
    private static (byte[] Key, byte[]? Value) Op(int i)
    {
        byte[] key = System.Text.Encoding.ASCII.GetBytes($"key{(i * 7919) % 64:D2}");
        return (key, i % 11 == 0 ? null : System.Text.Encoding.ASCII.GetBytes($"value-{i}-" + new string('x', i % 50)));
    }

    public static IEnumerable<object[]> PowerLossCases() =>
        Enumerable.Range(1, 40).Select(seed => new object[] { seed, seed % 2 == 0 });

    [Theory]
    [MemberData(nameof(PowerLossCases))]
    public void Power_loss_at_a_random_point_keeps_synced_writes_and_a_prefix(int seed, bool keepRandomUnsyncedPrefix)
    {
        var rng = new Random(seed);
        var fs = new MemFileSystem();
        int total = 300 + rng.Next(600);
        int crashAt = rng.Next(total);
        int lastSynced = -1;
        MemFileSystem? crashed = null;
        using (Database db = Database.Open(Dir, Options(fs, seed)))
        {
            for (int i = 0; i < total; i++)
            {
                if (i == crashAt)
                {
                    crashed = fs.CrashClone(keepRandomUnsyncedPrefix ? new Random(seed * 31) : null);
                }

                bool sync = rng.Next(5) == 0;
                var (key, value) = Op(i);
                var options = sync ? WriteOptions.Synced : WriteOptions.Default;
                if (value is null)
                {
                    db.Delete(key, options);
                }
                else
                {
                    db.Put(key, value, options);
                }

                if (sync && crashed is null)
                {
                    lastSynced = i;
                }

                if (rng.Next(100) == 0)
                {
                    db.Flush();
                }
            }
        }

        VerifyPrefix(crashed!, lastSynced, crashAt, seed);
    }

    /// <summary>Eight cases by default; <c>NOKV_SOAK_SEEDS=N</c> runs N seeds cycling through every fault kind.</summary>
    public static IEnumerable<object[]> FaultCases()
    {
        (FileOperation, FaultAction)[] kinds =
        [
            (FileOperation.Append, FaultAction.TornWrite),
            (FileOperation.Append, FaultAction.ShortWrite),
            (FileOperation.Sync, FaultAction.Fail),
            (FileOperation.Create, FaultAction.Fail),
            (FileOperation.Rename, FaultAction.Fail),
            (FileOperation.SyncDirectory, FaultAction.Fail),
            (FileOperation.Append, FaultAction.Fail),
            (FileOperation.Delete, FaultAction.Fail),
        ];
        int count = int.TryParse(Environment.GetEnvironmentVariable("NOKV_SOAK_SEEDS"), out int n) && n > 0 ? n : kinds.Length;
        return Enumerable.Range(0, count).Select(i => new object[] { 11 + i, kinds[i % kinds.Length].Item1, kinds[i % kinds.Length].Item2 });
    }

    [Theory]
    [MemberData(nameof(FaultCases))]
    public void Io_fault_at_a_random_operation_loses_no_acknowledged_synced_write(int seed, FileOperation operation, FaultAction action)
    {
        var rng = new Random(seed);
        var mem = new MemFileSystem();
        var injector = new NthOperationFaultInjector(operation, 1 + rng.Next(OperationsBeforeFault(operation)), action, sticky: true);
        var fs = new FaultInjectingFileSystem(mem, injector);
        int lastSynced = -1;
        int issued = 0;
        Database? db = null;
        try
        {
            db = Database.Open(Dir, Options(fs, seed));
            for (int i = 0; i < 2000; i++)
            {
                bool sync = rng.Next(3) == 0;
                var (key, value) = Op(i);
                issued = i + 1;
                var options = sync ? WriteOptions.Synced : WriteOptions.Default;
                if (value is null)
                {
                    db.Delete(key, options);
                }
                else
                {
                    db.Put(key, value, options);
                }

                if (sync)
                {
                    lastSynced = i;
                }
            }
        }
        catch (IOException)
        {
            // The fault (or the refusal that follows it) reached the caller.
        }
        finally
        {
            try
            {
                db?.Dispose();
            }
            catch (IOException)
            {
                // Closing a database whose disk is failing may fail too.
            }
        }

        Assert.True(injector.Injected > 0, $"seed {seed}: the fault was never injected (only {injector.Seen} {operation} operations)");
        // Then the power goes: only synced bytes survive, or (odd seeds) also a random subset of unsynced pages.
        VerifyPrefix(seed % 2 == 0 ? mem.CrashClone() : mem.PowerLossClone(new Random(seed)), lastSynced, issued, seed);
    }

    /// <summary>How many operations of a kind a run reliably performs, so the Nth one is always reached.</summary>
    private static int OperationsBeforeFault(FileOperation operation) => operation switch
    {
        FileOperation.Append => 300,
        FileOperation.Sync => 150,
        FileOperation.Rename => 1,
        _ => 8,
    };

    private static void VerifyPrefix(MemFileSystem crashed, int lastSynced, int issued, int seed)
    {
        var recovered = new Dictionary<string, string>();
        using (Database db = Database.Open(Dir, Options(crashed, seed)))
        {
            using StorageIterator it = db.NewIterator();
            for (it.SeekToFirst(); it.Valid; it.Next())
            {
                recovered[System.Text.Encoding.ASCII.GetString(it.Key)] = System.Text.Encoding.ASCII.GetString(it.Value);
            }

            // The recovered database keeps working.
            db.Put("after"u8, "crash"u8, WriteOptions.Synced);
        }

        var model = new Dictionary<string, string>();
        bool matched = Same(model, recovered) && lastSynced < 0;
        int matchedAt = matched ? -1 : int.MinValue;
        for (int i = 0; i < issued && !matched; i++)
        {
            var (key, value) = Op(i);
            string k = System.Text.Encoding.ASCII.GetString(key);
            if (value is null)
            {
                model.Remove(k);
            }
            else
            {
                model[k] = System.Text.Encoding.ASCII.GetString(value);
            }

            if (i >= lastSynced && Same(model, recovered))
            {
                matched = true;
                matchedAt = i;
            }
        }

        Assert.True(matched, $"seed {seed}: the recovered state ({recovered.Count} keys) is not the state after any prefix of at least {lastSynced + 1} writes (issued {issued})");
        Assert.True(matchedAt >= lastSynced, $"seed {seed}: synced write {lastSynced} lost");
    }

    private static bool Same(Dictionary<string, string> a, Dictionary<string, string> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var kv in a)
        {
            if (!b.TryGetValue(kv.Key, out string? v) || v != kv.Value)
            {
                return false;
            }
        }

        return true;
    }
}
