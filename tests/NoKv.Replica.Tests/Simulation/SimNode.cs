using System.Buffers;
using Microsoft.Extensions.Logging.Abstractions;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Core;
using NoKv.Storage;
using NoKv.Storage.Vfs;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// One simulated store: its engine on an in-memory file system and its replica core, hosted the way the replica
/// grain hosts it (virtual clocks instead of the system's, the simulated network instead of grain calls). Messages
/// cross the network encoded with the production Raft wire codec.
/// A crash keeps only what the engine synced (<see cref="MemFileSystem.CrashClone()"/>) and drops the running core.
/// </summary>
internal sealed class SimNode : IReplicaHost
{
    private const string DbPath = "/store";
    private readonly ReplicaSimulation _sim;
    private readonly ArrayBufferWriter<byte> _buffer = new();
    private MemFileSystem _fs = new();
    private Database? _db;
    private int _generation;

    public SimNode(ReplicaSimulation sim, StoreId store)
    {
        _sim = sim;
        Store = store;
    }

    public StoreId Store { get; }

    public ReplicaCore? Core { get; private set; }

    public bool IsUp => Core is not null;

    public int Restarts { get; private set; }

    public long NowMs => _sim.Now;

    public long WallClockMs => 1_700_000_000_000 + _sim.Now;

    public Database Database => _db ?? throw new InvalidOperationException($"store {Store} is down");

    /// <summary>Opens the engine and the replica (a start or a restart after a crash).</summary>
    public async Task StartAsync(ShardDescriptor bootstrap, ReplicaOptions options)
    {
        _db = Database.Open(DbPath, new StorageOptions
        {
            FileSystem = _fs,
            MemtableSizeBytes = 64 << 10,
            UseMappedReads = false,
            BlockCacheBytes = 1 << 20,
        });
        var core = await ReplicaCore.OpenAsync(_db, bootstrap.Id, Store, bootstrap, options, this, NullLogger.Instance, _sim.NextSeed());
        int generation = ++_generation;
        core.Failed += e => _sim.ReportFailure(Store, generation, e);
        Core = core;
    }

    /// <summary>Kills the store: unsynced engine data is lost, waiting clients are answered as a dropped connection would.</summary>
    public void Crash()
    {
        var core = Core;
        if (core is null)
        {
            return;
        }

        Core = null;
        _generation++;
        Restarts++;
        var survivor = _fs.CrashClone();
        core.Close();
        _db!.Dispose();
        _db = null;
        _fs = survivor;
    }

    public bool Send(PeerDescriptor to, ReadOnlySpan<Message> messages)
    {
        if (Core is null)
        {
            return false;
        }

        _buffer.ResetWrittenCount();
        foreach (var message in messages)
        {
            RaftMessageCodec.Write(_buffer, message);
        }

        return _sim.Network.Send(Store, to.Store, _buffer.WrittenSpan.ToArray(), messages.Length);
    }

    public bool IsStoreAvailable(StoreId store) => _sim.Node(store).IsUp;

    /// <summary>The replicated rows this store holds under engine prefix <paramref name="prefix"/>, for comparing replicas.</summary>
    public SortedDictionary<string, string> ReadAllData(byte prefix)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        using var it = Database.NewIterator(new ReadOptions { LowerBound = [prefix], UpperBound = [(byte)(prefix + 1)] });
        for (it.SeekToFirst(); it.Valid; it.Next())
        {
            result[Convert.ToHexString(it.Key[1..])] = Convert.ToHexString(it.Value);
        }

        return result;
    }
}
