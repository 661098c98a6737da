using NoKv.Chaos.Checking;
using NoKv.Chaos.Workload;
using Xunit;

namespace NoKv.Chaos.Tests;

/// <summary>The checker must accept legal register histories and reject illegal ones, or a clean chaos run proves nothing.</summary>
public sealed class RegisterCheckerTests
{
    [Fact]
    public void SequentialHistoryIsLinearizable()
    {
        Assert.Equal(KeyVerdict.Linearizable, Check(
            Put(0, 1, 0, 1),
            Get(1, 1, 2, 3),
            Cas(0, 1, 2, true, 4, 5),
            Cas(1, 1, 3, false, 6, 7),
            Get(0, 2, 8, 9),
            Delete(1, 10, 11),
            Get(0, 0, 12, 13),
            Cas(1, 0, 4, true, 14, 15),
            Get(0, 4, 16, 17)));
    }

    [Fact]
    public void OverlappingOperationsMayTakeEffectInEitherOrder()
    {
        Assert.Equal(KeyVerdict.Linearizable, Check(Put(0, 1, 0, 1), Put(1, 2, 2, 6), Get(2, 1, 3, 4)));
        Assert.Equal(KeyVerdict.Linearizable, Check(Put(0, 1, 0, 1), Put(1, 2, 2, 6), Get(2, 2, 3, 4)));
    }

    [Fact]
    public void StaleReadAfterCompletedWriteIsRejected()
    {
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), Put(1, 2, 2, 3), Get(2, 1, 4, 5)));
    }

    [Fact]
    public void ReadsGoingBackInTimeAreRejected()
    {
        // Both reads overlap the write, but once one reader saw the new value a later reader cannot see the old one.
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), Put(1, 2, 2, 20), Get(2, 2, 3, 4), Get(3, 1, 5, 6)));
    }

    [Fact]
    public void FailedCompareAndSwapOnAMatchingValueIsRejected()
    {
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Delete(0, 0, 1), Cas(1, 0, 5, false, 2, 3)));
        Assert.Equal(KeyVerdict.Linearizable, Check(Delete(0, 0, 1), Cas(1, 0, 5, true, 2, 3), Get(0, 5, 4, 5)));
    }

    [Fact]
    public void DoubleAppliedCompareAndSwapIsRejected()
    {
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), Cas(1, 1, 2, true, 2, 3), Cas(2, 1, 2, true, 4, 5)));
    }

    [Fact]
    public void UnknownWriteMayApplyLateOrNever()
    {
        var unknown = Unknown(Put(1, 2, 2, 0));
        Assert.Equal(KeyVerdict.Linearizable, Check(Put(0, 1, 0, 1), unknown, Get(2, 1, 3, 4)));
        Assert.Equal(KeyVerdict.Linearizable, Check(Put(0, 1, 0, 1), unknown, Get(2, 2, 3, 4), Get(2, 2, 50, 51)));

        // But not before it was invoked, and not undone once seen.
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), Get(2, 2, 2, 3), Unknown(Put(1, 2, 5, 0))));
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), unknown, Get(2, 2, 3, 4), Get(2, 1, 5, 6)));
    }

    [Fact]
    public void ValueNeverWrittenIsRejected()
    {
        Assert.Equal(KeyVerdict.NotLinearizable, Check(Put(0, 1, 0, 1), Get(1, 7, 2, 3)));
    }

    [Fact]
    public void HistoriesOfAnAtomicRegisterAreAccepted_AndCorruptedOnesMostlyRejected()
    {
        for (int seed = 0; seed < 200; seed++)
        {
            var history = AtomicRegisterHistory(seed, out var corrupted);
            Assert.True(new RegisterChecker(history).Check() == KeyVerdict.Linearizable, $"seed {seed}: a real register's history was rejected");
            if (corrupted is not null)
            {
                Assert.True(new RegisterChecker(corrupted).Check() == KeyVerdict.NotLinearizable, $"seed {seed}: a read of a value never written was accepted");
            }
        }
    }

    [Fact]
    public void FinalValueThatLosesAnAcknowledgedWriteIsReported()
    {
        var history = new[] { Put(0, 1, 0, 1), Put(1, 2, 2, 3) };
        var lost = HistoryChecker.Check(history, new Dictionary<int, long> { [0] = 1 });
        Assert.Empty(lost.Violations);
        Assert.Single(lost.LostWrites);

        Assert.Empty(HistoryChecker.Check(history, new Dictionary<int, long> { [0] = 2 }).LostWrites);
        var withUnknown = history.Append(Unknown(Put(2, 3, 4, 0))).ToArray();
        Assert.Empty(HistoryChecker.Check(withUnknown, new Dictionary<int, long> { [0] = 3 }).LostWrites);
        Assert.Empty(HistoryChecker.Check(withUnknown, new Dictionary<int, long> { [0] = 2 }).LostWrites);
        Assert.Single(HistoryChecker.Check(withUnknown, new Dictionary<int, long> { [0] = 0 }).LostWrites);
    }

    /// <summary>
    /// Clients with overlapping intervals on a register that applies each operation at a random instant inside its
    /// interval: linearizable by construction. The corrupted copy turns one read into a read of a value never written.
    /// </summary>
    private static List<HistoryOp> AtomicRegisterHistory(int seed, out List<HistoryOp>? corrupted)
    {
        var random = new Random(seed);
        var events = new List<(long At, int Client, OpKind Kind, long Value, long Expected, long Invoke, long Return)>();
        long value = 0;
        long next = 0;
        var clientFree = new long[4];
        for (int i = 0; i < 60; i++)
        {
            int client = random.Next(4);
            long invoke = clientFree[client] + random.Next(1, 5);
            long ret = invoke + random.Next(1, 30);
            clientFree[client] = ret;
            long at = random.Next((int)invoke, (int)ret + 1) * 100 + i;
            int roll = random.Next(4);
            events.Add((at, client, (OpKind)roll, roll is 1 or 3 ? ++next : 0, roll == 3 ? random.Next(0, (int)next + 1) : 0, invoke, ret));
        }

        var ops = new List<HistoryOp>();
        foreach (var e in events.OrderBy(e => e.At))
        {
            switch (e.Kind)
            {
                case OpKind.Get:
                    ops.Add(new HistoryOp(e.Client, OpKind.Get, 0, 0, value, 0, false, e.Invoke, e.Return, OpOutcome.Ok));
                    break;
                case OpKind.Put:
                    value = e.Value;
                    ops.Add(new HistoryOp(e.Client, OpKind.Put, 0, 0, e.Value, 0, false, e.Invoke, e.Return, OpOutcome.Ok));
                    break;
                case OpKind.Delete:
                    value = 0;
                    ops.Add(new HistoryOp(e.Client, OpKind.Delete, 0, 0, 0, 0, false, e.Invoke, e.Return, OpOutcome.Ok));
                    break;
                default:
                    bool swapped = value == e.Expected;
                    if (swapped)
                    {
                        value = e.Value;
                    }

                    ops.Add(new HistoryOp(e.Client, OpKind.CompareAndSwap, 0, 0, e.Value, e.Expected, swapped, e.Invoke, e.Return, OpOutcome.Ok));
                    break;
            }
        }

        int read = ops.FindIndex(o => o.Kind == OpKind.Get);
        corrupted = read < 0 ? null : ops.Select((o, i) => i == read ? o with { Value = 1_000_000 } : o).ToList();
        return ops;
    }

    private static KeyVerdict Check(params HistoryOp[] ops) => new RegisterChecker(ops).Check();

    private static HistoryOp Put(int client, long value, long invoke, long ret) => new(client, OpKind.Put, 0, 0, value, 0, false, invoke, ret, OpOutcome.Ok);

    private static HistoryOp Get(int client, long value, long invoke, long ret) => new(client, OpKind.Get, 0, 0, value, 0, false, invoke, ret, OpOutcome.Ok);

    private static HistoryOp Delete(int client, long invoke, long ret) => new(client, OpKind.Delete, 0, 0, 0, 0, false, invoke, ret, OpOutcome.Ok);

    private static HistoryOp Cas(int client, long expected, long value, bool swapped, long invoke, long ret) =>
        new(client, OpKind.CompareAndSwap, 0, 0, value, expected, swapped, invoke, ret, OpOutcome.Ok);

    private static HistoryOp Unknown(HistoryOp op) => op with { Return = long.MaxValue, Outcome = OpOutcome.Unknown };
}
