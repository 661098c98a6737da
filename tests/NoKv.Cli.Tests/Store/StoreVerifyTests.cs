using System.Text;
using System.Text.Json;
using NoKv.Cli.Tests.Support;
using NoKv.Storage;
using Xunit;

namespace NoKv.Cli.Tests.Store;

/// <summary>`nokv store verify DIR`: every checksum of a stopped store, exit code 0 clean / 1 damaged / 2 cannot check.</summary>
public sealed class StoreVerifyTests : IDisposable
{
    private readonly TempStore _store = new();

    [Fact]
    public async Task A_clean_store_verifies_clean_and_is_left_unchanged()
    {
        Fill(_store);
        var before = _store.Fingerprint();

        var run = await CliRun.RunAsync("store", "verify", _store.Root, "--output", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Output);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("clean").GetBoolean());
        Assert.Equal(7, root.GetProperty("store_id").GetInt32());
        Assert.True(root.GetProperty("tables").GetInt32() >= 1, run.Output);
        Assert.True(root.GetProperty("blocks").GetInt64() > root.GetProperty("tables").GetInt32() * 2, run.Output);
        Assert.Equal(300, root.GetProperty("entries").GetInt64());
        Assert.True(root.GetProperty("log_records").GetInt64() >= 50, run.Output);
        Assert.Empty(root.GetProperty("problems").EnumerateArray());
        Assert.Equal(before, _store.Fingerprint());

        var text = await CliRun.RunAsync("store", "verify", _store.EnginePath);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("CLEAN", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_table_data_block_is_found_and_fails_the_exit_code()
    {
        Fill(_store);
        string table = _store.Files("*.sst")[0];
        FlipByte(table, 20);

        var run = await CliRun.RunAsync("store", "verify", _store.Root, "--output", "json");

        Assert.True(run.ExitCode == 1, run.ToString());
        using var doc = JsonDocument.Parse(run.Output);
        Assert.False(doc.RootElement.GetProperty("clean").GetBoolean());
        var problem = Assert.Single(doc.RootElement.GetProperty("problems").EnumerateArray());
        Assert.Equal(table, problem.GetProperty("file").GetString());
        Assert.Equal(0, problem.GetProperty("offset").GetInt64());
        Assert.Contains("checksum", problem.GetProperty("message").GetString(), StringComparison.Ordinal);

        var text = await CliRun.RunAsync("store", "verify", _store.Root);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("DAMAGED: 1 problem(s)", text.Output, StringComparison.Ordinal);
        Assert.Contains(Path.GetFileName(table), text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_flipped_byte_in_a_synced_log_record_is_found()
    {
        Fill(_store);
        string log = _store.Files("*.log")[^1];
        Assert.True(new FileInfo(log).Length > 2000, "the live log should hold the unflushed writes");
        FlipByte(log, 1000);

        var run = await CliRun.RunAsync("store", "verify", _store.Root, "--output", "json");

        Assert.True(run.ExitCode == 1, run.ToString());
        using var doc = JsonDocument.Parse(run.Output);
        var problem = Assert.Single(doc.RootElement.GetProperty("problems").EnumerateArray());
        Assert.Equal(log, problem.GetProperty("file").GetString());
    }

    [Fact]
    public async Task A_damaged_manifest_is_reported_as_damage()
    {
        Fill(_store);
        string manifest = Directory.GetFiles(_store.EnginePath, "MANIFEST-*").Single();
        FlipByte(manifest, 10);

        var verify = await CliRun.RunAsync("store", "verify", _store.Root);
        Assert.True(verify.ExitCode == 1, verify.ToString());
        Assert.Contains("MANIFEST-", verify.Output, StringComparison.Ordinal);

        var inspect = await CliRun.RunAsync("store", "inspect", _store.Root, "--output", "json");
        Assert.True(inspect.ExitCode == 2, inspect.ToString());
        using var doc = JsonDocument.Parse(inspect.Output);
        Assert.Equal("corrupt", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task A_store_whose_engine_is_open_is_refused()
    {
        using (var db = _store.Open())
        {
            db.Put("k"u8, "v"u8);
            foreach (string command in new[] { "verify", "inspect" })
            {
                var run = await CliRun.RunAsync("store", command, _store.Root, "--output", "json");
                Assert.True(run.ExitCode == 2, run.ToString());
                Assert.Contains("is in use", run.Error, StringComparison.Ordinal);
                using var doc = JsonDocument.Parse(run.Output);
                Assert.Equal("store_in_use", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
            }
        }

        // Once the engine is closed, the same directory verifies.
        Assert.Equal(0, (await CliRun.RunAsync("store", "verify", _store.Root)).ExitCode);
    }

    [Fact]
    public async Task A_directory_that_is_not_a_store_is_refused_and_left_alone()
    {
        string empty = Path.Combine(_store.Root, "not-a-store");
        Directory.CreateDirectory(empty);
        foreach (string command in new[] { "verify", "inspect" })
        {
            var run = await CliRun.RunAsync("store", command, empty, "--output", "json");
            Assert.True(run.ExitCode == 2, run.ToString());
            Assert.Contains("is not a NoKV store", run.Error, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(run.Output);
            Assert.Equal("not_a_store", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
            Assert.Empty(Directory.GetFileSystemEntries(empty));

            var missing = await CliRun.RunAsync("store", command, Path.Combine(_store.Root, "missing"));
            Assert.Equal(2, missing.ExitCode);
            Assert.Contains("does not exist", missing.Error, StringComparison.Ordinal);
        }
    }

    public void Dispose() => _store.Dispose();

    /// <summary>300 keys flushed to tables, then 100 more synced to the log only; closed cleanly.</summary>
    private static void Fill(TempStore store)
    {
        using var db = store.Open();
        for (int i = 0; i < 300; i++)
        {
            db.Put(Encoding.UTF8.GetBytes($"key-{i:D5}"), Encoding.UTF8.GetBytes(new string('v', 40) + i));
        }

        db.Flush();
        for (int i = 300; i < 400; i++)
        {
            db.Put(Encoding.UTF8.GetBytes($"key-{i:D5}"), Encoding.UTF8.GetBytes(new string('w', 40) + i), new WriteOptions { Sync = i % 2 == 0 });
        }
    }

    private static void FlipByte(string path, long offset)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.Position = offset;
        int b = f.ReadByte();
        f.Position = offset;
        f.WriteByte((byte)(b ^ 0x5a));
    }
}
