using Microsoft.Extensions.Logging.Abstractions;
using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Transactions;
using NoKv.Grains.Layout;
using NoKv.Raft.Messages;
using NoKv.Replica.Core;
using NoKv.Replica.Tests.Simulation;
using NoKv.Storage;
using NoKv.Storage.Vfs;

namespace NoKv.Replica.Tests.Core;

/// <summary>
/// One real <see cref="ReplicaCore"/> (store 1) in a three-peer group whose other two peers the test plays by hand:
/// it sees every message the core sends and decides what comes back. Runs on a
/// <see cref="SimSynchronizationContext"/> so the core's continuations stay on the test's thread, and lets a test
/// act from inside a pump (<see cref="OnSend"/>), as a reentrant grain call would.
/// </summary>
internal sealed class ScriptedGroup : IReplicaHost, IDisposable
{
    public static readonly StoreId Self = new(1);
    public static readonly StoreId PeerB = new(2);
    public static readonly StoreId PeerC = new(3);

    private readonly SimSynchronizationContext _context = new();
    private readonly MemFileSystem _fs = new();
    private readonly Database _db;
    private readonly SynchronizationContext? _previous;

    /// <param name="shard">The group's shard (1 unless a test plays the controller group, shard 0).</param>
    /// <param name="range">The shard's range (everything unless given).</param>
    /// <param name="preferred">The store whose peer is the first voter, the preferred leader (the core's own unless given).</param>
    /// <param name="stagingDirectory">Where the core stages snapshots in files (in memory unless given).</param>
    /// <param name="randomSeed">The core's random seed (its election timeouts and campaign delays).</param>
    public ScriptedGroup(ReplicaOptions? options = null, ShardId? shard = null, KeyRange? range = null, StoreId? preferred = null, string? stagingDirectory = null, int randomSeed = 5)
    {
        SnapshotStagingDirectory = stagingDirectory;
        _previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        var id = shard ?? new ShardId(1);
        PeerDescriptor[] peers =
        [
            new PeerDescriptor(ClusterLayout.BootstrapPeerId(id, 0), Self, PeerRole.Voter),
            new PeerDescriptor(ClusterLayout.BootstrapPeerId(id, 1), PeerB, PeerRole.Voter),
            new PeerDescriptor(ClusterLayout.BootstrapPeerId(id, 2), PeerC, PeerRole.Voter),
        ];
        if (preferred is { } first)
        {
            peers = [.. peers.Where(p => p.Store == first), .. peers.Where(p => p.Store != first)];
        }

        Shard = new ShardDescriptor(id, range ?? KeyRange.All, 1, 1, peers);
        Options = options ?? new ReplicaOptions { ElectionTicks = 10, HeartbeatTicks = 2, RequestTimeout = TimeSpan.FromSeconds(3) };
        _db = Database.Open("/store", new StorageOptions { FileSystem = _fs, UseMappedReads = false });
        Core = Run(ReplicaCore.OpenAsync(_db, Shard.Id, Self, Shard, Options, this, NullLogger.Instance, randomSeed));
        Core.Failed += e => Failure = e;
    }

    public ShardDescriptor Shard { get; }

    public string? SnapshotStagingDirectory { get; }

    /// <summary>The store's engine, for tests that look at the rows the core wrote.</summary>
    public Database Database => _db;

    public ReplicaOptions Options { get; }

    public ReplicaCore Core { get; private set; }

    public Exception? Failure { get; private set; }

    /// <summary>Every message the core handed to the transport, in order.</summary>
    public List<Message> Sent { get; } = new();

    /// <summary>Stores whose sends the transport refuses (as if their silo were down).</summary>
    public HashSet<StoreId> Down { get; } = new();

    /// <summary>Called for each message as it is sent, inside the core's pump.</summary>
    public Action<Message>? OnSend { get; set; }

    public long NowMs { get; set; } = 1_000;

    public long WallClockMs => 1_700_000_000_000 + NowMs;

    public ulong PeerIdOf(StoreId store) => Shard.PeerOn(store)!.Value.PeerId;

    /// <summary>Messages the core offered to a store the transport refused (<see cref="Down"/>).</summary>
    public List<Message> Refused { get; } = new();

    public bool Send(PeerDescriptor to, ReadOnlySpan<Message> messages)
    {
        if (Down.Contains(to.Store))
        {
            Refused.AddRange(messages.ToArray());
            return false;
        }

        foreach (var message in messages)
        {
            // The core may recycle entry buffers after the Ready: keep a copy, as an encoder would.
            var copy = new Message
            {
                Type = message.Type, From = message.From, To = message.To, Term = message.Term, LogTerm = message.LogTerm,
                Index = message.Index, Entries = message.Entries.ToArray(), Commit = message.Commit, Reject = message.Reject,
                RejectHint = message.RejectHint, ChunkOffset = message.ChunkOffset,
                Snapshot = message.Snapshot is { } chunk ? new NoKv.Raft.Messages.Snapshot(chunk.Metadata, chunk.Data.ToArray()) : null,
                SnapshotSize = message.SnapshotSize, Context = message.Context.ToArray(),
            };
            Sent.Add(copy);
            OnSend?.Invoke(copy);
        }

        return true;
    }

    public bool IsStoreAvailable(StoreId store) => !Down.Contains(store);

    /// <summary>Stores the host last heard from at a fixed time (silent since); every other store is heard from now.</summary>
    public Dictionary<StoreId, long> SilentSince { get; } = new();

    public long LastHeardFrom(StoreId store) => SilentSince.TryGetValue(store, out long at) ? at : NowMs;

    /// <summary>Stores whose disk the host reports slow (the core's own included).</summary>
    public HashSet<StoreId> Slow { get; } = new();

    public bool IsStoreSlow(StoreId store) => Slow.Contains(store);

    /// <summary>The cluster's command format level the host reports (this build's unless a test lowers it).</summary>
    public int ClusterFormatLevel { get; set; } = Replica.Commands.CommandFormatLevel.Current;

    /// <summary>Calls to the scripted oracle (blocks of timestamps, each above the last and the wall clock, like the real one's).</summary>
    public long OracleCalls { get; private set; }

    private long _lastOracleTimestamp;

    /// <summary>While set, oracle calls wait for it (a slow controller group) before they are answered.</summary>
    public TaskCompletionSource? OracleGate { get; set; }

    public async Task<long> GetOracleTimestampsAsync(int count)
    {
        OracleCalls++;
        if (OracleGate is { } gate)
        {
            await gate.Task.ConfigureAwait(true);
        }

        long first = Math.Max(_lastOracleTimestamp + 1, WallClockMs << 18);
        _lastOracleTimestamp = first + count - 1;
        return first;
    }

    /// <summary>The controller's status-collection point as this host last heard it (0: none yet).</summary>
    public long StatusCollectionPoint { get; set; }

    /// <summary>Plays the shards of primaries outside this group's range (null answer: unreachable).</summary>
    public Func<byte[], long, TxnResponse?>? RemoteStatus { get; set; }

    /// <summary>Primaries outside the range the core asked about, in order.</summary>
    public List<(byte[] PrimaryKey, long StartTs)> RemoteAsks { get; } = new();

    public Task<TxnResponse?> CheckTransactionStatusAsync(byte[] primaryKey, long startTs)
    {
        RemoteAsks.Add((primaryKey, startTs));
        return Task.FromResult(RemoteStatus?.Invoke(primaryKey, startTs));
    }

    /// <summary>Runs <paramref name="task"/> and everything it sets off until the core is idle.</summary>
    public T Run<T>(Task<T> task)
    {
        Settle(() => !task.IsCompleted);
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs queued work until the core is idle.</summary>
    public void Settle() => Settle(() => false);

    public void Run(Task task)
    {
        Settle(() => !task.IsCompleted);
        task.GetAwaiter().GetResult();
    }

    public void Tick(int count = 1)
    {
        for (int i = 0; i < count; i++)
        {
            NowMs += (long)Options.TickInterval.TotalMilliseconds;
            Run(Core.TickAsync());
        }
    }

    public void Deliver(params Message[] messages) => Run(Core.DeliverAsync(PeerB, messages));

    /// <summary>Delivers messages as arriving from <paramref name="store"/>'s silo.</summary>
    public void DeliverFrom(StoreId store, params Message[] messages) => Run(Core.DeliverAsync(store, messages));

    /// <summary>Answers every request the core sent since <paramref name="from"/> as a healthy follower would (any peer whose store is not down).</summary>
    public int AnswerAll(int from)
    {
        int end = Sent.Count;
        for (int i = from; i < end; i++)
        {
            var m = Sent[i];
            Message? reply = m.Type switch
            {
                MessageType.PreVote => new Message { Type = MessageType.PreVoteResponse, From = m.To, To = m.From, Term = m.Term },
                MessageType.Vote => new Message { Type = MessageType.VoteResponse, From = m.To, To = m.From, Term = m.Term },
                MessageType.Append => new Message { Type = MessageType.AppendResponse, From = m.To, To = m.From, Term = m.Term, Index = m.Index + (ulong)m.Entries.Length },
                MessageType.Heartbeat => new Message { Type = MessageType.HeartbeatResponse, From = m.To, To = m.From, Term = m.Term, Index = m.Index, LogTerm = m.LogTerm, Context = m.Context },
                _ => null,
            };
            if (reply is { } r && (Shard.Peer(r.From) is not { } peer || !Down.Contains(peer.Store)))
            {
                Deliver(r);
            }
        }

        return end;
    }

    /// <summary>Ticks the core (answering for B and C) until it leads.</summary>
    public void ElectSelf()
    {
        int answered = 0;
        for (int i = 0; i < 100 && !Core.IsLeader; i++)
        {
            Tick();
            answered = AnswerAll(answered);
        }

        if (!Core.IsLeader)
        {
            throw new InvalidOperationException("the core did not become leader");
        }

        AnswerAll(answered);
    }

    /// <summary>Closes the core and opens it again from the same engine, handing it the bootstrap descriptor again
    /// (a restarted silo does): whatever the replica persisted must win over it.</summary>
    public void Reopen()
    {
        Core.Close();
        Core = null!;
        Core = Run(ReplicaCore.OpenAsync(_db, Shard.Id, Self, Shard, Options, this, NullLogger.Instance, randomSeed: 6));
        Core.Failed += e => Failure = e;
    }

    public void Dispose()
    {
        Core.Close();
        _db.Dispose();
        SynchronizationContext.SetSynchronizationContext(_previous);
    }

    private void Settle(Func<bool> pending)
    {
        if (!_context.RunUntilIdle(() => Core is { IsPumping: true } ? 1 : 0, pending, TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("the replica core made no progress");
        }
    }
}
