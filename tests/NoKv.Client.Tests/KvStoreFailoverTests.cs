using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using NoKv.Client.Tests.Routing;
using Xunit;

namespace NoKv.Client.Tests;

/// <summary>
/// The client's retry loop against fake replicas: which store each attempt goes to after NotLeader answers (with
/// and without a hint), timeouts and dead silos, and that a frozen store holds up nothing but its own requests.
/// Replica answers are scripted by call, so the order of calls is deterministic; only attempt timeouts and
/// backoff take (short) real time.
/// </summary>
public sealed class KvStoreFailoverTests
{
    /// <summary>Shard 1 holds keys below 0x80 on stores 1, 2, 3; shard 2 the rest on stores 2, 3, 1.</summary>
    private static readonly ShardMap TwoShards = FakeShardMapGrain.Map(1, [1, 2, 3], [2, 3, 1]);

    private static readonly byte[] KeyInShard1 = "a"u8.ToArray();
    private static readonly byte[] KeyInShard2 = [0xC3, 0xA9];
    private static readonly ShardId Shard1 = new(1);
    private static readonly ShardId Shard2 = new(2);

    [Fact]
    public async Task ANotLeaderHintIsFollowedOnTheVeryNextAttempt()
    {
        var client = new FakeClient(TwoShards);
        client.Replicas.Respond = call => Answer(call.Store.Value == 3 ? ReplicaAnswer.Ok : ReplicaAnswer.NotLeader(3));

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        Assert.Equal([1, 3], client.Replicas.StoresCalled());

        // The hint is now the cached leader: the next request goes straight there.
        client.Replicas.ClearCalls();
        await client.Store.PutAsync(KeyInShard1, "w"u8.ToArray());
        Assert.Equal([3], client.Replicas.StoresCalled());
    }

    [Fact]
    public async Task AHintToAStoreTheMapDoesNotListIsFollowedAtOnceWhenTheAnswerCarriesTheNewReplicaSet()
    {
        // Shard 1 moved from store 1 to store 4 and store 4 leads it; the controller's map still lists stores 1, 2, 3.
        var moved = FakeShardMapGrain.Map(2, [4, 2, 3], [2, 3, 1]).Shards[0];
        var current = new ShardDescriptor(moved.Id, moved.Range, moved.Epoch, moved.ConfVersion + 1, moved.Peers);
        var client = new FakeClient(TwoShards);
        client.Replicas.Respond = call => Answer(call.Store.Value == 4 ? ReplicaAnswer.Ok : new ReplicaAnswer(NoKvErrorCode.NotLeader, new StoreId(4), [current]));

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        Assert.Equal([1, 4], client.Replicas.StoresCalled());
        Assert.Equal(1, client.MapGrain.Calls);
        Assert.Equal(1, client.Router.LearnedReplicaSets);

        client.Replicas.ClearCalls();
        await client.Store.GetAsync(KeyInShard1);
        Assert.Equal([4], client.Replicas.StoresCalled());
    }

    [Fact]
    public async Task AReplicaSetNoNewerThanTheMapsIsNotLearned()
    {
        // A replica behind the map (its descriptor an older replica set) names a store the map does not list: the
        // client asks the controller for the map instead of taking the replica's word.
        var stale = TwoShards.Shards[0];
        var client = new FakeClient(TwoShards);
        int calls = 0;
        client.Replicas.Respond = _ => Answer(Interlocked.Increment(ref calls) == 1 ? new ReplicaAnswer(NoKvErrorCode.NotLeader, new StoreId(4), [stale]) : ReplicaAnswer.Ok);

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        Assert.Equal(0, client.Router.LearnedReplicaSets);
        Assert.Equal(2, client.MapGrain.Calls);
        Assert.DoesNotContain(4, client.Replicas.StoresCalled());
    }

    [Fact]
    public async Task WithoutAHintEachRetryAsksAnotherReplica()
    {
        // An election is under way: nobody knows the leader for the first five calls, then store 2 wins.
        var client = new FakeClient(TwoShards);
        int calls = 0;
        client.Replicas.Respond = call =>
            Answer(Interlocked.Increment(ref calls) <= 5 ? ReplicaAnswer.NotLeader(null) : call.Store.Value == 2 ? ReplicaAnswer.Ok : ReplicaAnswer.NotLeader(2));

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        var stores = client.Replicas.StoresCalled();
        Assert.Equal(2, stores[^1]);
        Assert.Equal([1, 2, 3, 1, 2], stores[..5]);
        for (int i = 1; i < stores.Length; i++)
        {
            Assert.True(stores[i] != stores[i - 1] || stores[i] == 2, $"store {stores[i]} asked twice in a row: [{string.Join(",", stores)}]");
        }
    }

    [Fact]
    public async Task AFrozenLeaderCostsOneAttemptTimeoutAndIsNotAskedAgain()
    {
        // Store 1 (the leader) stops answering. Its followers keep naming it for their first four answers (they have
        // not noticed yet), then elect store 2.
        var client = new FakeClient(TwoShards);
        client.Router.NoteLeader(Shard1, new StoreId(1));
        int followerAnswers = 0;
        client.Replicas.Respond = call => call.Store.Value switch
        {
            1 => Never(),
            _ when Interlocked.Increment(ref followerAnswers) <= 4 => Answer(ReplicaAnswer.NotLeader(1)),
            2 => Answer(ReplicaAnswer.Ok),
            _ => Answer(ReplicaAnswer.NotLeader(2)),
        };

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        var calls = client.Replicas.Calls;
        Assert.Equal(1, calls.Count(c => c.Store.Value == 1));
        Assert.Equal(1, calls[0].Store.Value);
        Assert.Equal(2, calls[^1].Store.Value);
        Assert.True(client.Router.Health.IsSuspect(new StoreId(1)));

        // Every attempt of the write carried the same session sequence, so the shard applies it once.
        Assert.Single(calls.Select(c => c.Session).Distinct());

        // The new leader is cached: the next write goes straight to it.
        client.Replicas.ClearCalls();
        await client.Store.PutAsync(KeyInShard1, "w"u8.ToArray());
        Assert.Equal([2], client.Replicas.StoresCalled());
    }

    [Fact]
    public async Task ASuspectStoreIsProbedOnceItsIntervalPassesAndItsAnswerClearsIt()
    {
        // Store 1 leads but was slow once: its followers keep naming it. The client avoids it (backing off and asking
        // the followers) until its probe is due, then its answer clears it.
        var client = new FakeClient(TwoShards);
        client.Router.NoteLeader(Shard1, new StoreId(1));
        var slow = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        int leaderCalls = 0;
        client.Replicas.Respond = call => call.Store.Value == 1
            ? Interlocked.Increment(ref leaderCalls) == 1 ? slow.Task : Answer(ReplicaAnswer.Ok)
            : Answer(ReplicaAnswer.NotLeader(1));

        var put = client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        await ShardRouterTests.Eventually(() => client.Replicas.Calls.Count >= 8);
        Assert.False(put.IsCompleted);
        Assert.Equal(1, Volatile.Read(ref leaderCalls));
        Assert.True(client.Router.Health.IsSuspect(new StoreId(1)));

        client.HealthClock.Advance(FakeClient.ProbeInterval);
        await put;
        Assert.Equal(2, Volatile.Read(ref leaderCalls));
        Assert.False(client.Router.Health.IsSuspect(new StoreId(1)));
        slow.SetResult(ReplicaAnswer.Ok);
    }

    [Fact]
    public async Task RequestsToAHealthyShardDoNotWaitForAFrozenOne()
    {
        // Long attempts: the request to frozen store 1 stays pending for the whole test. Four write calls may be in
        // flight per replica, so each of the four frozen writes is its own call (none waits in a batch queue).
        var client = new FakeClient(TwoShards, o =>
        {
            o.AttemptTimeout = TimeSpan.FromSeconds(30);
            o.MaxWriteCallsInFlight = 4;
        });
        client.Router.NoteLeader(Shard1, new StoreId(1));
        client.Router.NoteLeader(Shard2, new StoreId(2));
        var thaw = new TaskCompletionSource<ReplicaAnswer>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Replicas.Respond = call => call.Store.Value == 1 ? thaw.Task : Answer(ReplicaAnswer.Ok);

        var frozen = Enumerable.Range(0, 4).Select(i => client.Store.PutAsync(KeyInShard1, new[] { (byte)i })).ToArray();
        await ShardRouterTests.Eventually(() => client.Replicas.StoresCalled(Shard1).Length == 4);

        var healthy = Enumerable.Range(0, 16).Select(i => client.Store.PutAsync(KeyInShard2, new[] { (byte)i })).ToArray();
        await Task.WhenAll(healthy);
        Assert.All(client.Replicas.StoresCalled(Shard2), s => Assert.Equal(2, s));
        Assert.All(frozen, t => Assert.False(t.IsCompleted));

        thaw.SetResult(ReplicaAnswer.Ok);
        await Task.WhenAll(frozen);
    }

    [Fact]
    public async Task ADeadSiloIsAvoidedByEveryShard()
    {
        var client = new FakeClient(TwoShards);
        client.Router.NoteLeader(Shard1, new StoreId(1));
        int store3Calls = 0;
        client.Replicas.Respond = call => (call.Shard.Value, call.Store.Value) switch
        {
            (_, 1) => Task.FromException<ReplicaAnswer>(new InvalidOperationException("connection refused")),
            (1, _) => Answer(call.Store.Value == 2 ? ReplicaAnswer.Ok : ReplicaAnswer.NotLeader(2)),
            (2, 3) when Interlocked.Increment(ref store3Calls) >= 2 => Answer(ReplicaAnswer.Ok),
            _ => Answer(ReplicaAnswer.NotLeader(null)),
        };

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        Assert.Equal(1, client.Replicas.StoresCalled(Shard1)[0]);
        Assert.True(client.Router.Health.IsSuspect(new StoreId(1)));

        // Shard 2 has no known leader and rotates over 2, 3, 1: store 1 is passed over.
        await client.Store.PutAsync(KeyInShard2, "v"u8.ToArray());
        Assert.Equal([2, 3, 2, 3], client.Replicas.StoresCalled(Shard2));
    }

    [Fact]
    public async Task ReadsFromAnyReplicaPassOverASuspectStore()
    {
        var client = new FakeClient(TwoShards);
        client.Router.Health.Suspect(new StoreId(1));
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(KeyInShard1, await client.Store.GetAsync(KeyInShard1, KvReadOptions.Stale(TimeSpan.FromSeconds(1))));
        }

        var stores = client.Replicas.StoresCalled();
        Assert.Equal(30, stores.Length);
        Assert.DoesNotContain(1, stores);
    }

    [Fact]
    public async Task AnAnswerFromASuspectStoreClearsIt()
    {
        var client = new FakeClient(TwoShards);
        client.Router.Health.Suspect(new StoreId(2));
        client.Router.Health.Suspect(new StoreId(3));
        client.Replicas.Respond = call => Answer(call.Store.Value == 2 ? ReplicaAnswer.Ok : ReplicaAnswer.NotLeader(2));

        // Shard 2's replicas are 2, 3, 1: the only healthy one answers NotLeader naming suspect store 2, whose probe
        // comes due a probe interval later.
        var put = client.Store.PutAsync(KeyInShard2, "v"u8.ToArray());
        await ShardRouterTests.Eventually(() => client.Replicas.Calls.Count >= 3);
        Assert.All(client.Replicas.StoresCalled(), s => Assert.Equal(1, s));
        client.HealthClock.Advance(FakeClient.ProbeInterval);
        await put;
        Assert.False(client.Router.Health.IsSuspect(new StoreId(2)));
        Assert.True(client.Router.Health.IsSuspect(new StoreId(3)));
    }

    [Fact]
    public async Task TheDeadlineEndsAnOperationThatNeverFindsALeader()
    {
        // The retry loop runs on the real clock: a deadline of 2 s leaves room for several 20-160 ms backoffs even on
        // a loaded CI machine (300 ms once allowed a single attempt there).
        var client = new FakeClient(TwoShards, o => o.OperationTimeout = TimeSpan.FromSeconds(2));
        client.Replicas.Respond = _ => Answer(ReplicaAnswer.NotLeader(null));
        var error = await Assert.ThrowsAsync<NoKvTimeoutException>(() => client.Store.PutAsync(KeyInShard1, "v"u8.ToArray()));
        Assert.Equal(NoKvErrorCode.NotLeader, error.LastError);
        Assert.Equal("Put", error.Operation);
        Assert.True(error.Attempts >= 3, error.Message);
    }

    [Fact]
    public async Task AnAttemptTimeoutIsReportedWhenTheDeadlinePassesWaitingOnAFrozenStore()
    {
        var client = new FakeClient(TwoShards, o =>
        {
            o.OperationTimeout = TimeSpan.FromSeconds(2);
            o.AttemptTimeout = TimeSpan.FromMilliseconds(100);
        });
        client.Replicas.Respond = _ => Never();
        var error = await Assert.ThrowsAsync<NoKvTimeoutException>(() => client.Store.PutAsync(KeyInShard1, "v"u8.ToArray()));
        Assert.Equal(NoKvErrorCode.Timeout, error.LastError);
        Assert.Contains("did not answer within 100 ms", error.Message);
    }

    [Fact]
    public async Task WrongShardFetchesTheMapAgain()
    {
        var client = new FakeClient(TwoShards);
        int calls = 0;
        client.Replicas.Respond = _ => Answer(Interlocked.Increment(ref calls) == 1 ? new ReplicaAnswer(NoKvErrorCode.WrongShard) : ReplicaAnswer.Ok);
        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray());
        Assert.Equal(2, client.MapGrain.Calls);
        Assert.Equal(2, client.Replicas.Calls.Count);
    }

    [Fact]
    public async Task WrongShardAsksForAMapNewerThanItsOwnAndRetriesAtOnceWhenTheMapMovedOn()
    {
        // Backoff of an hour: only a retry without backoff finishes the put.
        var client = new FakeClient(TwoShards, o =>
        {
            o.OperationTimeout = TimeSpan.FromHours(2);
            o.InitialBackoff = TimeSpan.FromHours(1);
            o.MaxBackoff = TimeSpan.FromHours(1);
        });
        var newer = FakeShardMapGrain.Map(TwoShards.Version + 1, [1, 2, 3], [2, 3, 1]);
        int calls = 0;
        client.Replicas.Respond = _ =>
        {
            if (Interlocked.Increment(ref calls) > 1)
            {
                return Answer(ReplicaAnswer.Ok);
            }

            client.MapGrain.Fetch = () => Task.FromResult(newer); // a split committed meanwhile
            return Answer(new ReplicaAnswer(NoKvErrorCode.WrongShard));
        };

        await client.Store.PutAsync(KeyInShard1, "v"u8.ToArray()).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, client.Replicas.Calls.Count);
        Assert.Equal([TwoShards.Version], client.MapGrain.NewerThan);
        Assert.Equal(newer.Version, (await client.Router.GetMapAsync(default)).Version);
    }

    [Fact]
    public async Task AFinalErrorIsThrownWithoutRetrying()
    {
        var client = new FakeClient(TwoShards);
        client.Replicas.Respond = _ => Answer(new ReplicaAnswer(NoKvErrorCode.ValueTooLarge));
        await Assert.ThrowsAnyAsync<NoKvException>(() => client.Store.PutAsync(KeyInShard1, "v"u8.ToArray()));
        Assert.Single(client.Replicas.Calls);
    }

    private static Task<ReplicaAnswer> Answer(ReplicaAnswer answer) => Task.FromResult(answer);

    private static Task<ReplicaAnswer> Never() => new TaskCompletionSource<ReplicaAnswer>().Task;
}
