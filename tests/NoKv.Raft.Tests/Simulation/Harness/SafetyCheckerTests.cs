using NoKv.Raft.Tests.Testing;
using Xunit;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>The checkers must catch each violation they exist for (a checker that never fires proves nothing).</summary>
public sealed class SafetyCheckerTests
{
    private static LoggedEntry E(ulong index, ulong term, byte payload) => new(index, term, 0, new byte[] { payload });

    [Fact]
    public void TwoLeadersInOneTermAreCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveLeader(1, 5);
        checker.ObserveLeader(1, 5);
        checker.ObserveLeader(2, 6);
        var ex = Assert.Throws<SafetyViolationException>(() => checker.ObserveLeader(3, 5));
        Assert.Equal("election safety", ex.Invariant);
    }

    [Fact]
    public void SamePositionWithDifferentPayloadOrPredecessorIsCaught()
    {
        var checker = new SafetyChecker();
        checker.ObservePersisted(1, E(1, 1, 10), prevTerm: 0);
        checker.ObservePersisted(2, E(1, 1, 10), prevTerm: 0);
        checker.ObservePersisted(1, E(2, 2, 20), prevTerm: 1);
        Assert.Equal("log matching", Assert.Throws<SafetyViolationException>(() => checker.ObservePersisted(3, E(1, 1, 11), 0)).Invariant);
        Assert.Equal("log matching", Assert.Throws<SafetyViolationException>(() => checker.ObservePersisted(3, E(2, 2, 20), 0)).Invariant);
    }

    [Fact]
    public void DifferentEntriesAppliedAtOneIndexAreCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveApplied(1, 1, E(1, 1, 10), digestAfter: 100);
        var ex = Assert.Throws<SafetyViolationException>(() => checker.ObserveApplied(2, 1, E(1, 1, 11), digestAfter: 100));
        Assert.Equal("state-machine safety", ex.Invariant);
    }

    [Fact]
    public void GapsAndDivergentDigestsInAppliedSequencesAreCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveApplied(1, 1, E(1, 1, 10), digestAfter: 100);
        Assert.Throws<SafetyViolationException>(() => checker.ObserveApplied(1, 1, E(3, 1, 30), digestAfter: 300));

        checker.ObserveApplied(2, 1, E(1, 1, 10), digestAfter: 100);
        checker.ObserveApplied(2, 1, E(2, 1, 20), digestAfter: 200);
        Assert.Throws<SafetyViolationException>(() => checker.ObserveSnapshotRestored(3, 2, digest: 999, restart: false));
        Assert.Throws<SafetyViolationException>(() => checker.ObserveSnapshotRestored(2, 1, digest: 100, restart: false));
        checker.ObserveSnapshotRestored(2, 1, digest: 100, restart: true);
    }

    [Fact]
    public void LeaderMissingAnEarlierCommittedEntryIsCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveApplied(1, 2, E(1, 1, 10), digestAfter: 1);
        checker.ObserveApplied(1, 2, E(2, 2, 20), digestAfter: 2);

        // A leader of term 3 lacking index 2 violates completeness; a leader of term 2 is not checked
        // against entries whose commit term bound is 2.
        LoggedEntry? Partial(ulong i) => i == 1 ? E(1, 1, 10) : null;
        var ex = Assert.Throws<SafetyViolationException>(() => checker.CheckLeaderCompleteness(4, 3, 1, Partial));
        Assert.Equal("leader completeness", ex.Invariant);
        checker.CheckLeaderCompleteness(4, 2, 1, Partial);

        // Entries below the leader's first index are covered by its snapshot.
        checker.CheckLeaderCompleteness(4, 3, 3, _ => null);
    }

    [Fact]
    public void StaleReadsAreCaught()
    {
        var ledger = new ClientLedger();
        var old = new KvCommand(ledger.NextOpId(), "x");
        var fresh = new KvCommand(ledger.NextOpId(), "x");
        ledger.Proposed(1, 5, 1, old);
        ledger.Applied(1, 5, 1, old);
        ledger.Proposed(1, 6, 1, fresh);
        ledger.Applied(1, 6, 1, fresh);
        Assert.True(ledger.TryGetAcknowledged(fresh.OpId, out var at));
        Assert.Equal(6UL, at);

        // A read that starts after the second write was acknowledged must not see the first.
        var read = ledger.StartRead(2, "x");
        var ex = Assert.Throws<SafetyViolationException>(() => ledger.CompleteRead(read, 5, old.OpId, 5));
        Assert.Equal("linearizable read", ex.Invariant);

        // Seeing the fresh value is fine, and then nobody may read the old one afterwards.
        var ok = ledger.StartRead(2, "x");
        ledger.CompleteRead(ok, 6, fresh.OpId, 6);
        Assert.Equal(1, ledger.ReadsCompleted);
    }

    [Fact]
    public void ProposalOverwrittenByAnotherTermIsNotAcknowledged()
    {
        var ledger = new ClientLedger();
        var mine = new KvCommand(ledger.NextOpId(), "x");
        var theirs = new KvCommand(ledger.NextOpId(), "x");
        ledger.Proposed(1, 7, 2, mine);
        ledger.Applied(1, 7, 3, theirs);
        Assert.False(ledger.TryGetAcknowledged(mine.OpId, out _));
        Assert.Equal(1, ledger.Lost);
    }

    [Fact]
    public void DoubleVotesAndBackwardDurableStateAreCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveHardState(1, term: 2, vote: 3, commit: 5);
        checker.ObserveHardState(1, term: 2, vote: 3, commit: 6);

        // After a restart from durable state the same vote may be persisted again, but not another one.
        checker.ObserveRestart(1, 2, 6);
        checker.ObserveHardState(1, term: 2, vote: 3, commit: 6);
        Assert.Equal("election safety", Assert.Throws<SafetyViolationException>(() => checker.ObserveHardState(1, 2, 4, 6)).Invariant);
        Assert.Equal("durable state", Assert.Throws<SafetyViolationException>(() => checker.ObserveHardState(1, 1, 0, 6)).Invariant);
        Assert.Equal("durable state", Assert.Throws<SafetyViolationException>(() => checker.ObserveHardState(1, 3, 0, 2)).Invariant);
    }

    [Fact]
    public void MembershipFromAnotherIndexIsCaught()
    {
        var checker = new SafetyChecker();
        checker.ObserveInitialMembership("v123");
        checker.ObserveMembershipApplied(1, 10, "v123 l4");
        checker.ObserveMembershipApplied(2, 10, "v123 l4");
        checker.ObserveMembershipApplied(1, 20, "v1234");
        Assert.Throws<SafetyViolationException>(() => checker.ObserveMembershipApplied(3, 10, "v1234"));

        checker.ObserveMembershipRestored(3, 5, "v123");
        checker.ObserveMembershipRestored(3, 15, "v123 l4");
        checker.ObserveMembershipRestored(3, 20, "v1234");
        var ex = Assert.Throws<SafetyViolationException>(() => checker.ObserveMembershipRestored(3, 15, "v1234"));
        Assert.Equal("membership safety", ex.Invariant);
    }
}
