using System.Buffers.Binary;
using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Replica;
using NoKv.Grains.Store;
using NoKv.Raft.Messages;
using Orleans.Runtime;

namespace NoKv.Grains.Raft;

/// <summary>
/// The receiving half of the silo's Raft transport (<see cref="IRaftTransportService"/>): splits an envelope into its
/// shards' groups, decodes each and hands it to the shard's replica. A replica active here gets its messages queued
/// onto its own activation (<see cref="IDrivenReplica.ScheduleDelivery"/>), with no grain call; one that is not
/// active (a store restarting, a replica a split just created) is activated by a grain call carrying its group.
/// <para>Malformed input changes nothing: an envelope of an unknown version or with a broken frame is dropped whole,
/// a group that does not decode is dropped alone; warnings are rate-limited per sending store.</para>
/// </summary>
public sealed partial class RaftTransportService : GrainService, IRaftTransportService
{
    private readonly LocalStore _store;
    private readonly ReplicaDriver _driver;
    private readonly IGrainFactory _grains;
    private readonly PeerWarningLimiter _badInput;
    private readonly ILogger<RaftTransportService> _logger;

    public RaftTransportService(GrainId grainId, Silo silo, ILoggerFactory loggerFactory, LocalStore store, ReplicaDriver driver, IGrainFactory grains, PeerWarningLimiter badInput)
        : base(grainId, silo, loggerFactory)
    {
        _store = store;
        _driver = driver;
        _grains = grains;
        _badInput = badInput;
        _logger = loggerFactory.CreateLogger<RaftTransportService>();
    }

    public Task DeliverAsync(RaftEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        _driver.HeardFrom(envelope.From, envelope.SenderDiskSlow);
        if (envelope.Version != RaftEnvelope.CurrentVersion || envelope.To != _store.Id)
        {
            Warn(envelope.From, envelope.Version != RaftEnvelope.CurrentVersion
                ? $"envelope version {envelope.Version} (this build reads {RaftEnvelope.CurrentVersion})"
                : $"envelope for store {envelope.To} reached store {_store.Id}");
            return Task.CompletedTask;
        }

        var payload = envelope.Payload.AsMemory();
        int at = 0;
        for (int i = 0; i < envelope.Groups; i++)
        {
            if (payload.Length - at < 16)
            {
                Warn(envelope.From, $"envelope truncated at group {i} of {envelope.Groups}");
                return Task.CompletedTask;
            }

            var header = payload.Span[at..];
            var shard = new ShardId(BinaryPrimitives.ReadInt64LittleEndian(header));
            int count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            int length = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            at += 16;
            if (length < 0 || length > payload.Length - at)
            {
                Warn(envelope.From, $"group {i} of the envelope claims {length} bytes, {payload.Length - at} remain");
                return Task.CompletedTask;
            }

            var batch = payload.Slice(at, length);
            at += length;
            Deliver(envelope.From, shard, count, batch);
        }

        if (at != payload.Length)
        {
            Warn(envelope.From, $"envelope has {payload.Length - at} trailing bytes");
        }

        return Task.CompletedTask;
    }

    private void Deliver(StoreId from, ShardId shard, int count, ReadOnlyMemory<byte> batch)
    {
        if (_driver.Find(shard) is not { } replica)
        {
            // Not active here: a grain call activates it (or finds that this store holds no replica of the shard).
            var message = new RaftMessageBatch { Shard = shard, From = from, To = _store.Id, Count = count, Payload = batch.ToArray() };
            _ = ActivateAsync(_grains.GetGrain<IShardReplicaGrain>(new ReplicaId(shard, _store.Id).ToGrainKey()), message);
            return;
        }

        Message[] messages;
        try
        {
            messages = RaftMessageCodec.ReadAll(batch, count);
        }
        catch (FormatException e)
        {
            Warn(from, $"shard {shard}: {e.Message}");
            return;
        }

        replica.ScheduleDelivery(from, messages);
    }

    private async Task ActivateAsync(IShardReplicaGrain replica, RaftMessageBatch batch)
    {
        try
        {
            await replica.DeliverAsync(batch);
        }
        catch (Exception e)
        {
            // Raft retransmits; the next message tries again.
            LogActivationFailed(batch.Shard.Value, e.Message);
        }
    }

    private void Warn(StoreId from, string reason)
    {
        // Raft retransmits, and a peer on a newer format keeps sending what this build cannot read: one warning per
        // sending store per interval (docs/format-raft-wire.md).
        if (_badInput.ShouldWarn(from.Value, out long suppressed))
        {
            LogBadEnvelope(from.Value, reason, suppressed);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Raft transport refused input from store {From}: {Reason} ({Suppressed} more such since the last warning)")]
    private partial void LogBadEnvelope(int from, string reason, long suppressed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Raft transport: activating the replica of shard {Shard} failed: {Reason}")]
    private partial void LogActivationFailed(long shard, string reason);
}
