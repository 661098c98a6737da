using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Replica;
using NoKv.Raft.Messages;
using Orleans.Runtime;

namespace NoKv.Grains.Raft;

/// <summary>
/// The sending half of the silo's Raft transport: replicas hand it their messages (one shard's messages to one peer
/// at a time) and it sends, per destination store, one <see cref="RaftEnvelope"/> holding every shard's messages that
/// queued since its last flush. A flush is scheduled on the thread pool when the first group queues for a
/// destination, so messages wait only for the pool to reach the flush, and whatever other replicas queue
/// meanwhile (the Readies of a write burst over many shards, the heartbeats of every leader on a tick) rides along.
/// <para>Thread-safe: replicas call <see cref="Send"/> from their activations' threads at once; each destination's
/// queue has its own lock, held only to copy bytes in or take them out.</para>
/// <para>Per destination, groups leave in the order they were queued, so one replica's messages to one peer keep
/// their order (Raft tolerates reordering and loss, but pipelined appends go faster in order).</para>
/// </summary>
public sealed partial class RaftTransport
{
    private readonly ConcurrentDictionary<StoreId, Outbox> _outboxes = new();
    private readonly ReplicaDriver _driver;
    private readonly IGrainFactory _grains;
    private readonly ILogger<RaftTransport> _logger;
    private readonly Store.LocalStore _store;

    private readonly int _heartbeatTicks;

    public RaftTransport(ReplicaDriver driver, IGrainFactory grains, Store.LocalStore store, Microsoft.Extensions.Options.IOptions<NoKv.Replica.ReplicaOptions> options, ILogger<RaftTransport> logger)
    {
        _heartbeatTicks = options.Value.HeartbeatTicks;
        _driver = driver;
        _grains = grains;
        _logger = logger;
        _store = store;
        driver.Ticked += OnTick;
    }

    /// <summary>
    /// Every heartbeat interval, an empty envelope to each live store this silo sent nothing to since the last beat:
    /// every silo then hears from every other at least that often, whatever its replicas do, which is how a
    /// hibernating replica learns that a peer's store went silent (docs/replica.md, "Hibernation").
    /// </summary>
    private void OnTick(long tick)
    {
        if (tick % Math.Max(1, _heartbeatTicks) != 0)
        {
            return;
        }

        foreach (var store in _driver.LiveStores)
        {
            if (store == _store.Id)
            {
                continue;
            }

            var outbox = _outboxes.GetOrAdd(store, static (s, transport) => new Outbox(transport, s), this);
            if (outbox.SentSinceBeat)
            {
                outbox.SentSinceBeat = false;
                continue;
            }

            if (_driver.SiloOf(store) is { } silo)
            {
                Post(outbox, silo, [], 0);
            }
        }
    }

    /// <summary>Envelopes sent since the silo started (for tests and the benchmark's notes).</summary>
    public long EnvelopesSent => Interlocked.Read(ref _envelopes);

    /// <summary>Groups (one shard's messages to one peer) sent since the silo started.</summary>
    public long GroupsSent => Interlocked.Read(ref _groups);

    private long _envelopes;
    private long _groups;

    /// <summary>
    /// Queues <paramref name="messages"/> of shard <paramref name="shard"/> for the replica on store <paramref name="to"/>.
    /// Returns false when they cannot leave: the store has no live silo, or the last envelope to it failed since the
    /// last tick (the caller reports the peer unreachable to Raft). The messages are encoded before this returns.
    /// </summary>
    public bool Send(ShardId shard, StoreId to, ReadOnlySpan<Message> messages)
    {
        if (_driver.SiloOf(to) is not { } silo)
        {
            return false;
        }

        var outbox = _outboxes.GetOrAdd(to, static (store, transport) => new Outbox(transport, store), this);
        if (outbox.FailedAtTick == _driver.Ticks)
        {
            return false;
        }

        bool schedule;
        lock (outbox)
        {
            var writer = outbox.Writer;
            int start = writer.WrittenCount;
            var header = writer.GetSpan(16);
            BinaryPrimitives.WriteInt64LittleEndian(header, shard.Value);
            BinaryPrimitives.WriteInt32LittleEndian(header[8..], messages.Length);
            writer.Advance(16);

            // The batch codec starts a batch (with its version header) in an empty writer only.
            var batch = outbox.Scratch;
            batch.ResetWrittenCount();
            foreach (var message in messages)
            {
                RaftMessageCodec.Write(batch, message);
            }

            writer.Write(batch.WrittenSpan);
            BinaryPrimitives.WriteInt32LittleEndian(outbox.LengthAt(start + 12), batch.WrittenCount);
            outbox.Tally.Add(shard.Value, messages, batch.WrittenCount);
            outbox.GroupEnds.Add(writer.WrittenCount);
            outbox.Groups++;
            outbox.Silo = silo;
            schedule = !outbox.FlushScheduled;
            outbox.FlushScheduled = true;
        }

        if (schedule)
        {
            // Not the caller's execution context: a flush belongs to no request's trace, and must not run on (or be
            // ordered behind) the replica's activation.
            ThreadPool.UnsafeQueueUserWorkItem(outbox, preferLocal: false);
        }

        return true;
    }

    private void Flush(Outbox outbox)
    {
        List<(byte[] Payload, int Groups)> envelopes;
        SiloAddress silo;
        lock (outbox)
        {
            outbox.FlushScheduled = false;
            if (outbox.Groups == 0)
            {
                return;
            }

            var written = outbox.Writer.WrittenSpan;
            if (written.Length >= LargeEnvelopeBytes)
            {
                LogLargeEnvelope(outbox.Store.Value, written.Length, outbox.Tally.ToString());
            }

            envelopes = Split(written, outbox.GroupEnds);
            outbox.Tally.Clear();
            outbox.GroupEnds.Clear();
            silo = outbox.Silo!;
            outbox.Writer.ResetWrittenCount();
            outbox.Groups = 0;
            if (outbox.Writer.Capacity > 1 << 20)
            {
                // A burst (a snapshot, a catch-up) grew it: do not keep that per destination.
                outbox.Writer = new ArrayBufferWriter<byte>(4096);
            }
        }

        foreach (var (payload, groups) in envelopes)
        {
            Post(outbox, silo, payload, groups);
        }
    }

    /// <summary>
    /// Cuts what queued into envelopes of at most <see cref="MaxEnvelopeBytes"/> at group boundaries (a larger group
    /// travels alone), in queue order. Orleans refuses a message body over its limit whole, heartbeats included, and a
    /// huge one costs both silos large allocations and copies on their scheduler threads.
    /// </summary>
    internal static List<(byte[] Payload, int Groups)> Split(ReadOnlySpan<byte> written, List<int> groupEnds)
    {
        var envelopes = new List<(byte[] Payload, int Groups)>(1);
        int start = 0, groups = 0, previousEnd = 0;
        foreach (int end in groupEnds)
        {
            if (groups > 0 && end - start > MaxEnvelopeBytes)
            {
                envelopes.Add((written[start..previousEnd].ToArray(), groups));
                start = previousEnd;
                groups = 0;
            }

            groups++;
            previousEnd = end;
        }

        envelopes.Add((written[start..previousEnd].ToArray(), groups));
        return envelopes;
    }

    private void Post(Outbox outbox, SiloAddress silo, byte[] payload, int groups)
    {
        outbox.SentSinceBeat = true;
        var envelope = new RaftEnvelope { Version = RaftEnvelope.CurrentVersion, From = _store.Id, To = outbox.Store, Groups = groups, Payload = payload, SenderDiskSlow = _store.IsDiskSlow };
        try
        {
            var inbox = Inbox(outbox, silo);
            var sent = inbox.DeliverAsync(envelope);
            Interlocked.Increment(ref _envelopes);
            Interlocked.Add(ref _groups, groups);
            TransportTelemetry.Envelopes.Add(1);
            TransportTelemetry.Groups.Add(groups);
            if (!sent.IsCompleted)
            {
                _ = ObserveAsync(sent, outbox);
            }
            else if (sent.IsFaulted)
            {
                Failed(outbox, sent.Exception!.GetBaseException());
            }
        }
        catch (Exception e)
        {
            Failed(outbox, e);
        }
    }

    /// <summary>
    /// The reference to <paramref name="silo"/>'s transport service, made once per silo the store lives on:
    /// <c>GetGrain(GrainId)</c> finds the interface's implementation by reflection on every call, which the profile
    /// showed at about 2% of the silos' managed samples when it ran per envelope (docs/transactions.md).
    /// </summary>
    private IRaftTransportService Inbox(Outbox outbox, SiloAddress silo)
    {
        var cached = outbox.Inbox;
        if (cached is not null && cached.Silo.Equals(silo))
        {
            return cached.Service;
        }

        var made = new InboxRef(silo, _grains.GetGrain<IRaftTransportService>(RaftTransportIds.At(silo)));
        outbox.Inbox = made;
        return made.Service;
    }

    private async Task ObserveAsync(Task sent, Outbox outbox)
    {
        try
        {
            await sent.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Failed(outbox, e);
        }
    }

    /// <summary>
    /// Raft retransmits what was lost; until the next tick, sends to that store return false so each replica reports
    /// the peer unreachable to Raft (a leader then probes it instead of streaming appends into the void).
    /// </summary>
    private void Failed(Outbox outbox, Exception e)
    {
        outbox.FailedAtTick = _driver.Ticks;
        LogSendFailed(outbox.Store.Value, e.Message);
    }

    /// <summary>Envelopes are cut at group boundaries to stay under this (Orleans refuses bodies over 100 MiB).</summary>
    internal const int MaxEnvelopeBytes = 4 << 20;

    // Worth a warning: what queued for one store between two flushes is this large (a catch-up, many snapshots).
    private const int LargeEnvelopeBytes = 16 << 20;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft transport: an envelope of {Bytes} bytes to store {Store}: {Contents}")]
    private partial void LogLargeEnvelope(int store, int bytes, string contents);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft transport: an envelope to store {Store} failed: {Reason}")]
    private partial void LogSendFailed(int store, string reason);

    /// <summary>What waits for one destination store. Guarded by its own lock (see the class remarks).</summary>
    private sealed class Outbox : IThreadPoolWorkItem
    {
        private readonly RaftTransport _transport;

        public Outbox(RaftTransport transport, StoreId store)
        {
            _transport = transport;
            Store = store;
        }

        public StoreId Store { get; }

        public ArrayBufferWriter<byte> Writer { get; set; } = new(4096);

        public ArrayBufferWriter<byte> Scratch { get; } = new(1024);

        public EnvelopeTally Tally { get; } = new();

        /// <summary>Where each queued group ends in <see cref="Writer"/>, so a flush can cut envelopes between groups.</summary>
        public List<int> GroupEnds { get; } = new();

        public int Groups { get; set; }

        public bool FlushScheduled { get; set; }

        public SiloAddress? Silo { get; set; }

        /// <summary>
        /// The last silo's transport service reference (a store moves to another silo only on restart). Written and
        /// read without the lock: a reference swap is atomic, and two racing writers make equal references.
        /// </summary>
        public InboxRef? Inbox
        {
            get => Volatile.Read(ref _inbox);
            set => Volatile.Write(ref _inbox, value);
        }

        private InboxRef? _inbox;

        /// <summary>An envelope left since the last beat (written by flushes, read and cleared by the driver's beat).</summary>
        public bool SentSinceBeat
        {
            get => Volatile.Read(ref _sentSinceBeat);
            set => Volatile.Write(ref _sentSinceBeat, value);
        }

        private bool _sentSinceBeat;

        /// <summary>The driver's tick at which an envelope to this store last failed (read without the lock).</summary>
        public long FailedAtTick
        {
            get => Volatile.Read(ref _failedAtTick);
            set => Volatile.Write(ref _failedAtTick, value);
        }

        private long _failedAtTick = -1;

        public Span<byte> LengthAt(int offset) => System.Runtime.InteropServices.MemoryMarshal.AsMemory(Writer.WrittenMemory).Span.Slice(offset, 4);

        public void Execute() => _transport.Flush(this);
    }

    /// <summary>A silo and the reference to its transport service.</summary>
    private sealed record InboxRef(SiloAddress Silo, IRaftTransportService Service);
}
