using System.Text;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Raft.Messages;
using NoKv.Replica.Commands;
using NoKv.Replica.Layout;
using NoKv.Replica.StateMachine;
using NoKv.Storage;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Replica.Tests.Support;

/// <summary>
/// What tests of shard state machines on one store's engine share (the split and merge tests): an engine in memory,
/// replicas opened with their state row, entries applied one at a time, and the commands and bytes they use.
/// </summary>
internal static class StateMachineTestKit
{
    public static readonly Guid Session = new("00112233-4455-6677-8899-aabbccddeeff");

    public static readonly StoreId Store = new(1);

    /// <summary>An engine on an in-memory file system, without mapped reads.</summary>
    public static Database NewEngine(string path = "/store") => Database.Open(path, new StorageOptions { FileSystem = new MemFileSystem(), UseMappedReads = false });

    /// <summary>A replica of <paramref name="shard"/> as peer <paramref name="peer"/>, with its replica state row written first (as a started replica has).</summary>
    public static ShardStateMachine Open(Database db, ShardDescriptor shard, ulong peer)
    {
        var batch = new WriteBatch();
        batch.Put(KeySpace.ReplicaStateKey(shard.Id), ReplicaStateCodec.Encode(new ReplicaState(peer, shard)));
        db.Write(batch, WriteOptions.Default);
        return new ShardStateMachine(db, new ReplicaState(peer, shard));
    }

    /// <summary>Applies one entry (term 1) at <paramref name="index"/> and returns its single outcome.</summary>
    public static ApplyOutcome ApplyOne(ShardStateMachine sm, ulong index, byte[] entry)
    {
        var outcomes = new List<ApplyOutcome>();
        sm.ApplyAsync(new[] { new Entry(1, index, entry) }, outcomes).AsTask().GetAwaiter().GetResult();
        return Assert.Single(outcomes);
    }

    public static KvCommand Put(long sequence, string key, string value, long epoch = 1) =>
        new(WriteKind.Put, epoch, new ClientSession(Session, sequence), B(key), B(value), null, 1);

    public static KvCommand CreateOnly(long sequence, string key, string value, long epoch = 1) =>
        new(WriteKind.CompareAndSwap, epoch, new ClientSession(Session, sequence), B(key), B(value), null, 1);

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    public static string? S(byte[]? b) => b is null ? null : Encoding.UTF8.GetString(b);
}
