using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Requests;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Routing;

/// <summary>
/// Client-side write batching (<see cref="WriteCoalescer"/>, <see cref="NoKvClientOptions.WriteBatching"/>): a lone
/// write is a plain call; writes that find their replica's calls all in flight leave together in arrival order, and
/// each keeps its own answer, retries and session sequence; a call that never answers does not hold its lane.
/// </summary>
public sealed class WriteCoalescerTests
{
    private static readonly ShardMap OneShard = FakeShardMapGrain.Map(1, [1, 2, 3]);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_lone_write_goes_out_at_once_as_a_plain_call()
    {
        var client = new FakeClient(OneShard);
        client.Router.NoteLeader(new ShardId(1), new StoreId(1));

        await client.Store.PutAsync("a"u8.ToArray(), "v"u8.ToArray());

        Assert.Equal(["write"], client.Replicas.Calls.Select(c => c.Kind));
    }

    [Fact]
    public async Task Writes_queued_behind_a_full_lane_leave_in_one_call_in_arrival_order_and_each_keeps_its_own_answer()
    {
        var client = new FakeClient(OneShard, o => o.MaxWriteCallsInFlight = 2);
        client.Router.NoteLeader(new ShardId(1), new StoreId(1));
        var gate = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Replicas.Respond = call => call.Kind == "write" && call.Store.Value == 1 ? gate.Task : Task.FromResult(ReplicaAnswer.Ok);

        // Store 1 refuses "k3" inside the batch (its leadership moved, say): that write alone follows the hint.
        client.Replicas.RespondBatchEntry = w => w.Key.AsSpan().SequenceEqual("k3"u8) ? ReplicaAnswer.NotLeader(2) : ReplicaAnswer.Ok;

        var inFlight = new[] { Put(client, "k0"), Put(client, "k1") };
        await WaitUntil(() => client.Replicas.Calls.Count == 2);
        var queued = Enumerable.Range(2, 6).Select(i => Put(client, "k" + i)).ToArray();
        Assert.Equal(2, client.Replicas.Calls.Count);

        gate.SetResult(ReplicaAnswer.Ok);
        await Task.WhenAll(inFlight.Concat(queued)).WaitAsync(Deadline);

        var calls = client.Replicas.Calls;
        var batch = Assert.Single(calls, c => c.Kind == "write-batch");
        Assert.Equal(1, batch.Store.Value);
        Assert.Equal(["k2", "k3", "k4", "k5", "k6", "k7"], batch.Batch!.Select(w => System.Text.Encoding.UTF8.GetString(w.Key)));
        Assert.Equal(6, batch.Batch!.Select(w => w.Session).Distinct().Count());

        // The refused write went on alone to the hinted leader, under the same session sequence (applied at most once).
        var k3 = batch.Batch!.Single(w => w.Key.AsSpan().SequenceEqual("k3"u8));
        var retried = Assert.Single(calls, c => c.Store.Value == 2);
        Assert.Equal(k3.Session, retried.Session);
    }

    [Fact]
    public async Task A_failed_batch_call_fails_each_write_in_it_and_each_retries_under_its_own_session_sequence()
    {
        var client = new FakeClient(OneShard, o => o.MaxWriteCallsInFlight = 1);
        client.Router.NoteLeader(new ShardId(1), new StoreId(1));
        var gate = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        int batches = 0;
        client.Replicas.Respond = call => call.Kind switch
        {
            "write" when call.Store.Value == 1 && call.Write!.Key.AsSpan().SequenceEqual("first"u8) => gate.Task,

            // The silo dies while the batch is on the wire; a later batch (the retries) is served.
            "write-batch" when Interlocked.Increment(ref batches) == 1 => Task.FromException<ReplicaAnswer>(new InvalidOperationException("connection reset")),
            _ => Task.FromResult(ReplicaAnswer.Ok),
        };

        var first = Put(client, "first");
        await WaitUntil(() => client.Replicas.Calls.Count == 1);
        var queued = Enumerable.Range(0, 5).Select(i => Put(client, "q" + i)).ToArray();
        gate.SetResult(ReplicaAnswer.Ok);
        await Task.WhenAll(queued.Append(first)).WaitAsync(Deadline);

        var calls = client.Replicas.Calls;
        var failed = calls.First(c => c.Kind == "write-batch");
        Assert.Equal(5, failed.Batch!.Length);
        foreach (var write in failed.Batch!)
        {
            // Each write was sent again (alone or batched) with the session sequence it had in the failed batch.
            var later = calls.SkipWhile(c => !ReferenceEquals(c, failed)).Skip(1)
                .SelectMany(c => c.Batch ?? (c.Write is { } w ? [w] : []))
                .Where(w => w.Key.AsSpan().SequenceEqual(write.Key));
            Assert.Equal(write.Session, Assert.Single(later).Session);
        }
    }

    [Fact]
    public async Task A_call_that_never_answers_frees_its_lane_slot_after_the_slot_hold()
    {
        var replicas = new FakeReplicas();
        int calls = 0;
        replicas.Respond = _ => Interlocked.Increment(ref calls) == 1 ? new TaskCompletionSource<ReplicaAnswer>().Task : Task.FromResult(ReplicaAnswer.Ok);
        var coalescer = new WriteCoalescer(maxBatch: 16, maxInFlight: 1, slotHold: TimeSpan.FromMilliseconds(100));
        var endpoint = Endpoint(replicas);

        var frozen = coalescer.WriteAsync(endpoint, Request("a", 1), CancellationToken.None);
        var next = coalescer.WriteAsync(endpoint, Request("b", 2), CancellationToken.None);

        Assert.Equal(NoKvErrorCode.Ok, (await next.WaitAsync(Deadline)).Code);
        Assert.False(frozen.IsCompleted);
    }

    [Fact]
    public async Task A_queued_write_whose_attempt_was_cancelled_is_never_sent()
    {
        var replicas = new FakeReplicas();
        var gate = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        replicas.Respond = call => call.Write is { } w && w.Key.AsSpan().SequenceEqual("a"u8) ? gate.Task : Task.FromResult(ReplicaAnswer.Ok);
        var coalescer = new WriteCoalescer(maxBatch: 16, maxInFlight: 1, slotHold: Deadline);
        var endpoint = Endpoint(replicas);
        using var cancelled = new CancellationTokenSource();

        var first = coalescer.WriteAsync(endpoint, Request("a", 1), CancellationToken.None);
        var abandoned = coalescer.WriteAsync(endpoint, Request("b", 2), cancelled.Token);
        var kept = coalescer.WriteAsync(endpoint, Request("c", 3), CancellationToken.None);
        cancelled.Cancel();
        gate.SetResult(ReplicaAnswer.Ok);

        Assert.Equal(NoKvErrorCode.Ok, (await kept.WaitAsync(Deadline)).Code);
        Assert.Equal(NoKvErrorCode.Ok, (await first.WaitAsync(Deadline)).Code);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Deadline));
        Assert.DoesNotContain(replicas.Calls, c => (c.Batch ?? (c.Write is { } w ? [w] : [])).Any(w => w.Key.AsSpan().SequenceEqual("b"u8)));
    }

    [Fact]
    public async Task With_batching_off_every_write_is_its_own_call()
    {
        var client = new FakeClient(OneShard, o => o.WriteBatching = false);
        client.Router.NoteLeader(new ShardId(1), new StoreId(1));
        var gate = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Replicas.Respond = _ => gate.Task;

        var writes = Enumerable.Range(0, 6).Select(i => Put(client, "k" + i)).ToArray();
        await WaitUntil(() => client.Replicas.Calls.Count == 6);
        gate.SetResult(ReplicaAnswer.Ok);
        await Task.WhenAll(writes).WaitAsync(Deadline);

        Assert.All(client.Replicas.Calls, c => Assert.Equal("write", c.Kind));
    }

    private static Task Put(FakeClient client, string key) => client.Store.PutAsync(System.Text.Encoding.UTF8.GetBytes(key), "v"u8.ToArray());

    private static ReplicaEndpoint Endpoint(FakeReplicas replicas) =>
        new(new StoreId(1), replicas.Grain(new ReplicaId(new ShardId(1), new StoreId(1)).ToGrainKey()));

    private static WriteRequest Request(string key, long sequence) => new()
    {
        Shard = new ShardId(1),
        Epoch = 1,
        Kind = WriteKind.Put,
        Key = System.Text.Encoding.UTF8.GetBytes(key),
        Value = "v"u8.ToArray(),
        Session = new ClientSession(Guid.Empty, sequence),
    };

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < until, "condition not reached within the deadline");
            await Task.Delay(5);
        }
    }
}
