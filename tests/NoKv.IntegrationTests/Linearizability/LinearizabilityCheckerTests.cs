using Xunit;

namespace NoKv.IntegrationTests.Linearizability;

/// <summary>The checker itself: it must accept legal histories and reject illegal ones, or the cluster test proves nothing.</summary>
public sealed class LinearizabilityCheckerTests
{
    [Fact]
    public void SequentialHistoryIsLinearizable()
    {
        Assert.Null(LinearizabilityChecker.Check([
            Put(0, "a", 0, 1),
            Get(1, "a", 2, 3),
            Cas(0, "a", "b", true, 4, 5),
            Cas(1, "a", "c", false, 6, 7),
            Get(0, "b", 8, 9),
            Delete(1, 10, 11),
            Get(0, null, 12, 13),
        ]));
    }

    [Fact]
    public void ConcurrentOperationsMayTakeEffectInEitherOrder()
    {
        // The get overlaps the put, so it may see either the old or the new value.
        Assert.Null(LinearizabilityChecker.Check([Put(0, "a", 0, 1), Put(1, "b", 2, 6), Get(2, "a", 3, 4)]));
        Assert.Null(LinearizabilityChecker.Check([Put(0, "a", 0, 1), Put(1, "b", 2, 6), Get(2, "b", 3, 4)]));
    }

    [Fact]
    public void StaleReadAfterCompletedWriteIsRejected()
    {
        var failure = LinearizabilityChecker.Check([Put(0, "a", 0, 1), Put(1, "b", 2, 3), Get(2, "a", 4, 5)]);
        Assert.NotNull(failure);
        Assert.Contains("get(k) -> a", failure);
    }

    [Fact]
    public void ReadOfAValueNeverWrittenIsRejected()
    {
        Assert.NotNull(LinearizabilityChecker.Check([Put(0, "a", 0, 1), Get(1, "z", 2, 3)]));
    }

    [Fact]
    public void DoubleAppliedCompareAndSwapIsRejected()
    {
        // Two successful swaps from the same expected value cannot both be linearized.
        Assert.NotNull(LinearizabilityChecker.Check([Put(0, "0", 0, 1), Cas(1, "0", "1", true, 2, 3), Cas(2, "0", "1", true, 4, 5)]));
    }

    [Fact]
    public void PendingWriteMayOrMayNotTakeEffect()
    {
        var pendingPut = new Operation(1, OperationKind.Put, "k", "b", null, false, 2, Operation.Pending);
        Assert.Null(LinearizabilityChecker.Check([Put(0, "a", 0, 1), pendingPut, Get(2, "a", 3, 4)]));
        Assert.Null(LinearizabilityChecker.Check([Put(0, "a", 0, 1), pendingPut, Get(2, "b", 3, 4)]));

        // But not before it was invoked.
        Assert.NotNull(LinearizabilityChecker.Check([Put(0, "a", 0, 1), Get(2, "b", 2, 3), pendingPut with { Invoke = 5 }]));
    }

    [Fact]
    public void KeysAreCheckedIndependently()
    {
        var ok = new[] { Put(0, "a", 0, 1) with { Key = "x" }, Get(1, "a", 2, 3) with { Key = "x" } };
        var bad = new[] { Put(0, "a", 0, 1) with { Key = "y" }, Get(1, null, 2, 3) with { Key = "y" } };
        var failure = LinearizabilityChecker.Check(ok.Concat(bad));
        Assert.NotNull(failure);
        Assert.Contains("key 'y'", failure);
    }

    private static Operation Put(int client, string value, long invoke, long ret) => new(client, OperationKind.Put, "k", value, null, false, invoke, ret);

    private static Operation Get(int client, string? value, long invoke, long ret) => new(client, OperationKind.Get, "k", value, null, false, invoke, ret);

    private static Operation Delete(int client, long invoke, long ret) => new(client, OperationKind.Delete, "k", null, null, false, invoke, ret);

    private static Operation Cas(int client, string? expected, string? value, bool swapped, long invoke, long ret) =>
        new(client, OperationKind.CompareAndSwap, "k", value, expected, swapped, invoke, ret);
}
