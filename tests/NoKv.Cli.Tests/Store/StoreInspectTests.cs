using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using NoKv.Abstractions.Sharding;
using NoKv.Cli.Tests.Support;
using NoKv.Replica.Layout;
using NoKv.Storage;
using Xunit;

namespace NoKv.Cli.Tests.Store;

/// <summary>
/// `nokv store inspect DIR` on an engine laid out as a store (docs/cluster.md "Engine key space"), with the replica rows
/// written byte by byte from docs/format-replica-state.md, so the test also pins the documented format.
/// </summary>
public sealed class StoreInspectTests : IDisposable
{
    private readonly TempStore _store = new(storeId: 7);

    [Fact]
    public async Task Inspect_shows_levels_files_shards_and_raft_indexes_including_what_only_the_log_holds()
    {
        using (var db = _store.Open())
        {
            db.Put([0x00, .. "layout"u8], "v2;test-layout"u8);
            WriteReplica(db, shard: 1, peer: 11, start: "", end: "m");
            WriteReplica(db, shard: 2, peer: 21, start: "m", end: "");
            db.Put(KeySpace.DataKey("a"u8), "1"u8);
            db.Put(KeySpace.DataKey("b"u8), "22"u8);
            db.Put(KeySpace.DataKey("n"u8), "333"u8);
            db.Flush();

            // After the flush: only in the log, which inspect must replay (in memory) to see.
            for (ulong i = 5; i <= 9; i++)
            {
                db.Put(KeySpace.LogKey(new ShardId(1), i), [.. Le(3), 1, 0xAA]);
            }

            db.Put(KeySpace.HardStateKey(new ShardId(1)), [.. Le(3), .. Le(11), .. Le(9)]);
            db.Put(KeySpace.ApplyStateKey(new ShardId(1)), [.. Le(9), .. Le(3)]);
            db.Put(KeySpace.TruncatedKey(new ShardId(1)), [.. Le(4), .. Le(2)]);
            db.Put(KeySpace.SessionKey(new ShardId(1), Guid.NewGuid()), new byte[18]);
            db.Put(KeySpace.DataKey("c"u8), "4444"u8);
            db.Delete(KeySpace.DataKey("b"u8));
            db.Put(KeySpace.DataKey("z"u8), "55555"u8, WriteOptions.Synced);
        }

        var before = _store.Fingerprint();
        var run = await CliRun.RunAsync("store", "inspect", _store.Root, "--output", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(before, _store.Fingerprint());
        using var doc = JsonDocument.Parse(run.Output);
        var root = doc.RootElement;
        Assert.Equal(7, root.GetProperty("store_id").GetInt32());
        Assert.Equal("v2;test-layout", root.GetProperty("layout").GetString());
        Assert.StartsWith("MANIFEST-", root.GetProperty("manifest").GetProperty("file").GetString(), StringComparison.Ordinal);
        var table = Assert.Single(root.GetProperty("tables").EnumerateArray());
        Assert.Equal(0, table.GetProperty("level").GetInt32());
        Assert.Equal(6, table.GetProperty("entries").GetInt64());
        Assert.Equal(new FileInfo(Path.Combine(_store.EnginePath, $"{table.GetProperty("number").GetUInt64():D6}.sst")).Length, table.GetProperty("bytes").GetInt64());
        Assert.Equal(1, root.GetProperty("levels")[0].GetProperty("files").GetInt32());
        Assert.Contains(root.GetProperty("files").EnumerateArray(), f => f.GetProperty("role").GetString() == "log" && f.GetProperty("bytes").GetInt64() > 0);

        var shards = root.GetProperty("shards").EnumerateArray().ToList();
        Assert.Equal(2, shards.Count);
        var s1 = shards[0];
        Assert.Equal(1, s1.GetProperty("id").GetInt64());
        Assert.Equal(11UL, s1.GetProperty("peer").GetUInt64());
        Assert.Equal("", s1.GetProperty("start").GetString());
        Assert.Equal("6D", s1.GetProperty("end").GetString());
        Assert.Equal(3UL, s1.GetProperty("term").GetUInt64());
        Assert.Equal(11UL, s1.GetProperty("vote").GetUInt64());
        Assert.Equal(9UL, s1.GetProperty("commit").GetUInt64());
        Assert.Equal(9UL, s1.GetProperty("applied").GetUInt64());
        Assert.Equal(4UL, s1.GetProperty("truncated_index").GetUInt64());
        Assert.Equal(5UL, s1.GetProperty("first_log_index").GetUInt64());
        Assert.Equal(9UL, s1.GetProperty("last_log_index").GetUInt64());
        Assert.Equal(5, s1.GetProperty("log_entries").GetInt64());
        Assert.Equal(1, s1.GetProperty("sessions").GetInt64());
        Assert.Equal(2, s1.GetProperty("data_rows").GetInt64()); // a, c (b was deleted in the log)
        // Stored bytes: each row's key after its prefix byte (the encoded user key) and its value.
        Assert.Equal(KeySpace.DataKey("a"u8).Length - 1 + 1 + KeySpace.DataKey("c"u8).Length - 1 + 4, s1.GetProperty("data_bytes").GetInt64());
        Assert.Equal([(11UL, 7), (12UL, 8), (13UL, 9)], s1.GetProperty("peers").EnumerateArray().Select(p => (p.GetProperty("peer").GetUInt64(), p.GetProperty("store").GetInt32())).ToList());

        var s2 = shards[1];
        Assert.Equal(2, s2.GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.Null, s2.GetProperty("end").ValueKind);
        Assert.Equal(JsonValueKind.Null, s2.GetProperty("term").ValueKind);
        Assert.Equal(2, s2.GetProperty("data_rows").GetInt64()); // n, z

        var text = await CliRun.RunAsync("store", "inspect", _store.Root);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("Store 7 at", text.Output, StringComparison.Ordinal);
        Assert.Contains("[\"\", \"m\")", text.Output, StringComparison.Ordinal);
        Assert.Contains("5..9", text.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_row_that_does_not_decode_is_reported_not_thrown()
    {
        using (var db = _store.Open())
        {
            db.Put(KeySpace.ReplicaStateKey(new ShardId(3)), [99, 1, 2]);
        }

        var run = await CliRun.RunAsync("store", "inspect", _store.Root, "--output", "json");

        Assert.True(run.ExitCode == 0, run.ToString());
        using var doc = JsonDocument.Parse(run.Output);
        var shard = Assert.Single(doc.RootElement.GetProperty("shards").EnumerateArray());
        Assert.Equal(3, shard.GetProperty("id").GetInt64());
        Assert.False(string.IsNullOrEmpty(shard.GetProperty("descriptor_error").GetString()));
    }

    public void Dispose() => _store.Dispose();

    /// <summary>The replica state row of docs/format-replica-state.md: peers on stores 7, 8, 9 with peer ids shard*10+1..3.</summary>
    private static void WriteReplica(Database db, long shard, ulong peer, string start, string end)
    {
        var row = new List<byte> { 1 };
        row.AddRange(Le(peer));
        row.AddRange(Le((ulong)shard));
        row.AddRange(Le(1));
        row.AddRange(Le(1));
        row.AddRange(Le32(start.Length));
        row.AddRange(Encoding.UTF8.GetBytes(start));
        row.AddRange(Le32(end.Length));
        row.AddRange(Encoding.UTF8.GetBytes(end));
        row.AddRange(Le32(3));
        for (int i = 0; i < 3; i++)
        {
            row.AddRange(Le((ulong)(shard * 10) + (ulong)i + 1));
            row.AddRange(Le32(7 + i));
            row.Add(1);
        }

        db.Put(KeySpace.ReplicaStateKey(new ShardId(shard)), row.ToArray());
    }

    private static byte[] Le(ulong value)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    private static byte[] Le32(int value)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        return b;
    }
}
