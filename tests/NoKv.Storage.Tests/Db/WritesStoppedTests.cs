using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

/// <summary>
/// <see cref="Database.WritesStopped"/>: the signal a host acts on when the engine can persist nothing more (the silo
/// exits so that its supervisor restarts it). It must fire on the first write error, with that error, and never for a
/// database that only worked.
/// </summary>
public sealed class WritesStoppedTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_failed_log_write_completes_WritesStopped_with_the_first_error_and_later_writes_fail()
    {
        var mem = new MemFileSystem();
        var injector = new NthOperationFaultInjector(FileOperation.Sync, 3, FaultAction.Fail, sticky: true, pathContains: ".log");
        var db = Database.Open("/stop", new StorageOptions { FileSystem = new FaultInjectingFileSystem(mem, injector) });
        try
        {
            await WriteUntilStoppedAsync(db);
        }
        finally
        {
            try
            {
                db.Dispose();
            }
            catch (IOException)
            {
                // Closing a database whose disk is failing may fail too.
            }
        }
    }

    private static async Task WriteUntilStoppedAsync(Database db)
    {
        IOException? first = null;
        for (int i = 0; i < 100 && first is null; i++)
        {
            try
            {
                db.Put([(byte)i], [1], WriteOptions.Synced);
            }
            catch (IOException e)
            {
                first = e;
            }
        }

        Assert.NotNull(first);
        var stopped = await db.WritesStopped.WaitAsync(Deadline);
        Assert.IsAssignableFrom<IOException>(stopped);
        Assert.Throws<IOException>(() => db.Put("later"u8, "x"u8));
        Assert.Same(stopped, await db.WritesStopped);
    }

    [Fact]
    public void A_database_that_only_worked_never_signals_WritesStopped()
    {
        var mem = new MemFileSystem();
        using (var db = Database.Open("/fine", new StorageOptions { FileSystem = mem, MemtableSizeBytes = 64 << 10 }))
        {
            for (int i = 0; i < 2000; i++)
            {
                db.Put(BitConverter.GetBytes(i), new byte[100], i % 10 == 0 ? WriteOptions.Synced : null);
            }

            db.Flush();
            Assert.False(db.WritesStopped.IsCompleted);
        }
    }
}
