using NoKv.Abstractions.Grains;
using NoKv.Abstractions.Raft;
using NoKv.Abstractions.Requests;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Incoming grain-call filter on every test silo: applies <see cref="NetworkFaults"/> to replica-to-replica
/// Raft batches (the silo transport's envelopes and the per-replica batches that activate a replica) and <see cref="LostReplies"/> to client writes. Everything else passes untouched.
/// </summary>
public sealed class RaftFaultFilter : IIncomingGrainCallFilter
{
    private readonly NetworkFaults _faults;
    private readonly LostReplies _lostReplies;

    public RaftFaultFilter(NetworkFaults faults, LostReplies lostReplies)
    {
        _faults = faults;
        _lostReplies = lostReplies;
    }

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.InterfaceMethod?.DeclaringType == typeof(IRaftTransportService)
            && context.Request.GetArgumentCount() == 1 && context.Request.GetArgument(0) is RaftEnvelope envelope)
        {
            // The silo transport's envelope: every shard's messages from one store to another (and the stores' beats).
            var (drop, delay) = _faults.Decide(envelope.From, envelope.To);
            if (drop)
            {
                return;
            }

            if (delay > 0)
            {
                await Task.Delay(delay);
            }
        }
        else if (context.InterfaceMethod?.DeclaringType == typeof(IShardReplicaGrain))
        {
            if (context.Request.GetArgumentCount() == 1 && context.Request.GetArgument(0) is RaftMessageBatch batch)
            {
                var (drop, delay) = _faults.Decide(batch.From, batch.To);
                if (drop)
                {
                    return;
                }

                if (delay > 0)
                {
                    await Task.Delay(delay);
                }
            }
            else if (context.Request.GetArgumentCount() >= 1 && context.Request.GetArgument(0) is WriteRequest write)
            {
                await context.Invoke();
                if (context.Result is WriteResponse { Code: NoKv.Abstractions.Errors.NoKvErrorCode.Ok } && _lostReplies.ShouldLose(write.Key))
                {
                    throw new TimeoutException("test: reply lost after the write applied");
                }

                return;
            }
            else if (context.Request.GetArgumentCount() >= 1 && context.Request.GetArgument(0) is WriteRequest[] writes)
            {
                // A batched call's reply carries every write's answer: losing it loses them all.
                await context.Invoke();
                if (context.Result is WriteResponse[] answers)
                {
                    bool lose = false;
                    for (int i = 0; i < answers.Length && i < writes.Length; i++)
                    {
                        lose |= answers[i] is { Code: NoKv.Abstractions.Errors.NoKvErrorCode.Ok } && _lostReplies.ShouldLose(writes[i].Key);
                    }

                    if (lose)
                    {
                        throw new TimeoutException("test: reply lost after the writes applied");
                    }
                }

                return;
            }
        }

        await context.Invoke();
    }
}
