using NoKv.Abstractions.Sharding;
using NoKv.Client.Routing;
using NoKv.Client.Tests.Fakes;
using Xunit;

namespace NoKv.Client.Tests.Routing;

public sealed class ShardRouterTests
{
    private static readonly ShardId ShardOne = new(1);

    private readonly ManualTimeProvider _clock = new();
    private readonly FakeShardMapGrain _mapGrain = new(FakeShardMapGrain.Map(1, [1, 2, 3]));
    private readonly ShardRouter _router;

    public ShardRouterTests()
    {
        var grains = new FakeGrainFactory(replicas: new FakeReplicas().Grain, map: () => _mapGrain);
        _router = new ShardRouter(grains, new StoreRoutes(grains, null, TimeSpan.FromSeconds(1), _clock), new StoreHealth(_clock, TimeSpan.FromSeconds(1)), TimeSpan.FromMilliseconds(1500), _clock);
    }

    private static ShardDescriptor Shard { get; } = FakeShardMapGrain.Map(1, [1, 2, 3]).Shards[0];

    [Fact]
    public void WithoutALeaderLeaderRequestsRotateOverTheReplicas()
    {
        int[] chosen = Enumerable.Range(0, 6).Select(a => _router.ChooseReplica(Shard, a, null, leaderOnly: true).Value).ToArray();
        Assert.Equal([1, 2, 3, 1, 2, 3], chosen);
    }

    [Fact]
    public void RotationMovesOffTheStoreThatJustFailed()
    {
        // Attempt 1 would pick store 2 again; having just failed there, the next replica is asked instead.
        Assert.Equal(3, _router.ChooseReplica(Shard, 1, new StoreId(2), leaderOnly: true).Value);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void AHintIsFollowedOnTheVeryNextAttemptWhateverItsNumber(int attempt)
    {
        _router.NoteLeader(ShardOne, new StoreId(3));
        Assert.Equal(3, _router.ChooseReplica(Shard, attempt, new StoreId(1), leaderOnly: true).Value);
    }

    [Fact]
    public void ALeaderThatIsNotAReplicaOfTheShardIsIgnored()
    {
        _router.NoteLeader(ShardOne, new StoreId(9));
        Assert.Equal(2, _router.ChooseReplica(Shard, 1, null, leaderOnly: true).Value);
    }

    [Fact]
    public void ForgetLeaderOnlyForgetsThatStore()
    {
        _router.NoteLeader(ShardOne, new StoreId(3));
        _router.ForgetLeader(ShardOne, new StoreId(2));
        Assert.Equal(new StoreId(3), _router.LeaderOf(ShardOne));
        _router.ForgetLeader(ShardOne, new StoreId(3));
        Assert.Null(_router.LeaderOf(ShardOne));
    }

    [Fact]
    public void ASuspectLeaderIsPassedOverUntilItsProbeIsDue()
    {
        _router.NoteLeader(ShardOne, new StoreId(1));
        _router.Health.Suspect(new StoreId(1));
        int[] chosen = Enumerable.Range(1, 4).Select(a => _router.ChooseReplica(Shard, a, null, leaderOnly: true).Value).ToArray();
        Assert.DoesNotContain(1, chosen);

        // A probe interval later one request goes to it, then it is avoided again until it answers.
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, _router.ChooseReplica(Shard, 5, null, leaderOnly: true).Value);
        Assert.NotEqual(1, _router.ChooseReplica(Shard, 6, null, leaderOnly: true).Value);

        _router.Health.Cleared(new StoreId(1));
        Assert.Equal(1, _router.ChooseReplica(Shard, 7, null, leaderOnly: true).Value);
    }

    [Fact]
    public void RotationPassesOverSuspectStores()
    {
        _router.Health.Suspect(new StoreId(2));
        int[] chosen = Enumerable.Range(0, 6).Select(a => _router.ChooseReplica(Shard, a, null, leaderOnly: true).Value).ToArray();
        Assert.DoesNotContain(2, chosen);
        Assert.Contains(1, chosen);
        Assert.Contains(3, chosen);
    }

    [Fact]
    public void TheOnlyHealthyStoreIsChosenEvenIfItJustFailed()
    {
        _router.Health.Suspect(new StoreId(1));
        _router.Health.Suspect(new StoreId(2));
        Assert.Equal(3, _router.ChooseReplica(Shard, 0, new StoreId(3), leaderOnly: true).Value);
    }

    [Fact]
    public void WhenEveryReplicaIsSuspectADueProbeIsTakenElseOneIsTriedAnyway()
    {
        _router.Health.Suspect(new StoreId(1));
        _router.Health.Suspect(new StoreId(3));
        _clock.Advance(TimeSpan.FromMilliseconds(500));
        _router.Health.Suspect(new StoreId(2));
        _clock.Advance(TimeSpan.FromMilliseconds(500));

        // Stores 1 and 3 are due for a probe, store 2 is not: attempt 1 (offset at store 2) takes store 3's probe.
        Assert.Equal(3, _router.ChooseReplica(Shard, 1, null, leaderOnly: true).Value);
        Assert.Equal(1, _router.ChooseReplica(Shard, 2, null, leaderOnly: true).Value);

        // No probe left: the caller still gets a replica (it backs off between such attempts).
        Assert.Equal(2, _router.ChooseReplica(Shard, 1, null, leaderOnly: true).Value);
    }

    [Fact]
    public void ReadsFromAnyReplicaSpreadAndRotate()
    {
        int[] first = Enumerable.Range(0, 3).Select(a => _router.ChooseReplica(Shard, a, null, leaderOnly: false, spread: 1).Value).ToArray();
        Assert.Equal([2, 3, 1], first);
        // Spread + attempt may overflow: still a valid replica (2^31 mod 3 = 2, the third).
        Assert.Equal(3, _router.ChooseReplica(Shard, 1, null, leaderOnly: false, spread: int.MaxValue).Value);

        // A cached leader does not pin them.
        _router.NoteLeader(ShardOne, new StoreId(1));
        Assert.Equal(2, _router.ChooseReplica(Shard, 0, null, leaderOnly: false, spread: 1).Value);
    }

    [Fact]
    public async Task CallersWithTheSameStaleMapShareOneFetch()
    {
        var newer = FakeShardMapGrain.Map(2, [1, 2, 3]);
        var release = new TaskCompletionSource<ShardMap>(TaskCreationOptions.RunContinuationsAsynchronously);
        _mapGrain.Fetch = () => release.Task;

        var callers = Enumerable.Range(0, 8).Select(_ => _router.RefreshAsync(null, CancellationToken.None)).ToArray();
        await Eventually(() => _mapGrain.Calls == 1);
        release.SetResult(newer);
        var maps = await Task.WhenAll(callers);
        Assert.All(maps, m => Assert.Same(newer, m));
        Assert.Equal(1, _mapGrain.Calls);

        // A caller holding the old map gets the newer one without a fetch.
        Assert.Same(newer, await _router.RefreshAsync(FakeShardMapGrain.Map(1, [1, 2, 3]), CancellationToken.None));
        Assert.Equal(1, _mapGrain.Calls);
    }

    [Fact]
    public async Task AnOlderMapNeverReplacesANewerOne()
    {
        var newer = FakeShardMapGrain.Map(5, [1, 2, 3]);
        _mapGrain.Fetch = () => Task.FromResult(newer);
        Assert.Same(newer, await _router.GetMapAsync(CancellationToken.None));

        _mapGrain.Fetch = () => Task.FromResult(FakeShardMapGrain.Map(4, [1, 2, 3]));
        Assert.Same(newer, await _router.RefreshAsync(newer, CancellationToken.None));
        Assert.Same(newer, await _router.GetMapAsync(CancellationToken.None));
    }

    [Fact]
    public async Task AFetchThatGetsNoAnswerEndsAfterTheFetchTimeoutAndTheNextCallerFetchesAgain()
    {
        var map = FakeShardMapGrain.Map(1, [1, 2, 3]);
        var never = new TaskCompletionSource<ShardMap>();
        _mapGrain.Fetch = () => never.Task;

        var stuck = _router.RefreshAsync(null, CancellationToken.None);
        await Eventually(() => _clock.PendingTimers == 1);
        _clock.Advance(TimeSpan.FromMilliseconds(1499));
        Assert.False(stuck.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => stuck);

        _mapGrain.Fetch = () => Task.FromResult(map);
        Assert.Same(map, await _router.RefreshAsync(null, CancellationToken.None));
        Assert.Equal(2, _mapGrain.Calls);
    }

    [Fact]
    public async Task ACallerStopsWaitingForASharedFetchWhenItsOwnTokenFires()
    {
        var never = new TaskCompletionSource<ShardMap>();
        _mapGrain.Fetch = () => never.Task;
        using var cancel = new CancellationTokenSource();
        var waiting = _router.RefreshAsync(null, cancel.Token);
        var other = _router.RefreshAsync(null, CancellationToken.None);
        await Eventually(() => _clock.PendingTimers == 1);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(other.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAsync<TimeoutException>(() => other);
    }

    /// <summary>Waits (real time, bounded) for a background step the test cannot await directly.</summary>
    internal static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(1);
        }
    }
}
