using Xunit;

namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// The checker on hand-made histories: each anomaly class is found (and named as the weakest class that explains the
/// cycle), and serializable histories, including ones with unknown outcomes, pass.
/// </summary>
public sealed class ListAppendCheckerTests
{
    [Fact]
    public void A_serial_history_passes_with_every_edge_kind_seen()
    {
        var history = new[]
        {
            Txn(1, R("x"), A("x", 1)),
            Txn(2, R("x", 1), A("x", 2), R("y"), A("y", 3)),
            Txn(3, R("x", 1, 2), R("y", 3)),
            Txn(5, R("y")),
            Final(4, ("x", [1, 2]), ("y", [3])),
        };

        var result = ListAppendChecker.Check(history, finalReadsComplete: true);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal(1, result.WriteWriteEdges);
        Assert.True(result.WriteReadEdges >= 2);
        Assert.True(result.ReadWriteEdges >= 1);
    }

    [Fact]
    public void Writes_ordered_differently_on_two_keys_are_G0()
    {
        var history = new[]
        {
            Txn(1, A("x", 1), A("y", 2)),
            Txn(2, A("x", 3), A("y", 4)),
            Final(3, ("x", [1, 3]), ("y", [4, 2])),
        };

        Assert.Equal("G0", Single(history).Kind);
    }

    [Fact]
    public void Each_transaction_seeing_the_others_write_is_G1c()
    {
        var history = new[]
        {
            Txn(1, A("x", 1), R("y", 2)),
            Txn(2, A("y", 2), R("x", 1)),
        };

        Assert.Equal("G1c", Single(history, finalReadsComplete: false).Kind);
    }

    [Fact]
    public void Read_skew_is_G_single()
    {
        var history = new[]
        {
            Txn(1, R("x"), R("y", 2)),
            Txn(2, A("x", 1), A("y", 2)),
            Final(3, ("x", [1]), ("y", [2])),
        };

        Assert.Equal("G-single", Single(history).Kind);
    }

    [Fact]
    public void Write_skew_is_G2()
    {
        var history = new[]
        {
            Txn(1, R("x"), R("y"), A("x", 1)),
            Txn(2, R("x"), R("y"), A("y", 2)),
            Final(3, ("x", [1]), ("y", [2])),
        };

        Assert.Equal("G2", Single(history).Kind);
    }

    [Fact]
    public void Reading_an_aborted_append_is_G1a_and_reading_an_intermediate_one_is_G1b()
    {
        var aborted = new[]
        {
            new ListTxn(1, [A("x", 1)], TxnOutcome.Aborted),
            Txn(2, R("x", 1)),
        };
        Assert.Contains(ListAppendChecker.Check(aborted, finalReadsComplete: false).Anomalies, a => a.Kind == "G1a");

        var intermediate = new[]
        {
            Txn(1, A("x", 1), A("x", 2)),
            Txn(2, R("x", 1)),
            Final(3, ("x", [1, 2])),
        };
        Assert.Contains(ListAppendChecker.Check(intermediate, finalReadsComplete: true).Anomalies, a => a.Kind == "G1b");
    }

    [Fact]
    public void Reads_that_fit_no_single_order_and_lost_or_invented_elements_are_reported()
    {
        var history = new[]
        {
            Txn(1, A("x", 1)),
            Txn(2, A("x", 2)),
            Txn(3, A("y", 5)),
            Txn(4, R("x", 2)),
            Final(5, ("x", [1, 2, 9]), ("y", [])),
        };

        var kinds = ListAppendChecker.Check(history, finalReadsComplete: true).Anomalies.Select(a => a.Kind).ToList();

        Assert.Contains("incompatible-order", kinds);
        Assert.Contains("garbage-read", kinds);
        Assert.Contains("lost-append", kinds);
    }

    [Fact]
    public void An_unknown_outcome_counts_as_committed_exactly_when_its_append_was_seen()
    {
        var seen = new[]
        {
            Txn(1, R("x"), A("x", 1)),
            new ListTxn(2, [R("x", 1), A("x", 2), A("y", 3)], TxnOutcome.Unknown),
            Txn(3, R("y"), R("x", 1, 2)),
            Final(4, ("x", [1, 2]), ("y", [3])),
        };

        // T2 is proven committed by x's read, so T3 reading y empty but x with T2's append is read skew.
        Assert.Equal("G-single", Single(seen).Kind);

        var unseen = new[]
        {
            Txn(1, R("x"), A("x", 1)),
            new ListTxn(2, [A("x", 2)], TxnOutcome.Unknown),
            Final(3, ("x", [1])),
        };
        Assert.True(ListAppendChecker.Check(unseen, finalReadsComplete: true).IsValid);
    }

    private static Anomaly Single(ListTxn[] history, bool finalReadsComplete = true)
    {
        var result = ListAppendChecker.Check(history, finalReadsComplete);
        return Assert.Single(result.Anomalies);
    }

    private static ListTxn Txn(int id, params ListOp[] ops) => new(id, ops, TxnOutcome.Committed);

    private static ListTxn Final(int id, params (string Key, int[] List)[] lists) =>
        new(id, lists.Select(l => ListOp.Read(l.Key, l.List)).ToArray(), TxnOutcome.Committed);

    private static ListOp R(string key, params int[] observed) => ListOp.Read(key, observed);

    private static ListOp A(string key, int element) => ListOp.Append(key, element);
}
