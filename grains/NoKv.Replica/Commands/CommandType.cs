namespace NoKv.Replica.Commands;

/// <summary>
/// What a log entry's command does; byte 2 of the command envelope (docs/format-commands.md).
/// On disk in every Raft log: never renumber, never reuse a retired value, only append. A build that meets a
/// value it does not know stops applying (UnsupportedCommandException), so a new type may be proposed only once
/// every replica of the group runs a build that knows it.
/// </summary>
internal enum CommandType : byte
{
    /// <summary>Never written: a zero byte here is corruption, not a command.</summary>
    None = 0,

    /// <summary>A single-key write (<see cref="KvCommand"/>): put, delete or compare-and-swap, with its client session.</summary>
    Write = 1,

    /// <summary>Drop client-session dedupe rows last used before a cutoff (<see cref="ExpireSessionsCommand"/>).</summary>
    ExpireSessions = 2,

    /// <summary>Split the shard in two at a key (<see cref="SplitCommand"/>); the right half becomes a new shard.</summary>
    Split = 10,

    /// <summary>Freeze the shard as the source of a merge into a neighbour (<see cref="PrepareMergeCommand"/>).</summary>
    PrepareMerge = 11,

    /// <summary>Take over a prepared neighbour's range (<see cref="CommitMergeCommand"/>), in the target's log.</summary>
    CommitMerge = 12,

    /// <summary>Make a voter the shard's preferred leader (<see cref="PreferLeaderCommand"/>): it moves to the front of the peers.</summary>
    PreferLeader = 13,

    // 14 replica moves (claimed on the bulletin board).

    /// <summary>End a prepared merge that will never commit (<see cref="RollbackMergeCommand"/>), in the source's log.</summary>
    RollbackMerge = 15,

    // 16-19 controller, 52-54 time to live (claimed on the bulletin board).

    /// <summary>Lock a transaction's writes in this shard (<see cref="Txn.TxnPrewriteCommand"/>).</summary>
    TxnPrewrite = 20,

    /// <summary>Turn a transaction's locks into versions (<see cref="Txn.TxnCommitCommand"/>).</summary>
    TxnCommit = 21,

    /// <summary>Remove a transaction's locks; record the primary rolled back (<see cref="Txn.TxnRollbackCommand"/>).</summary>
    TxnRollback = 22,

    /// <summary>Decide and report a transaction's outcome at its primary (<see cref="Txn.TxnCheckStatusCommand"/>).</summary>
    TxnCheckStatus = 23,

    /// <summary>A single-shard transaction, validated and committed at once (<see cref="Txn.TxnOnePhaseCommand"/>).</summary>
    TxnOnePhase = 24,

    /// <summary>Raise the shard's snapshot read floor (<see cref="Txn.TxnRaiseReadTsCommand"/>).</summary>
    TxnRaiseReadTs = 25,

    /// <summary>Garbage-collect old versions in a slice of the shard (<see cref="Txn.TxnGcCommand"/>).</summary>
    TxnGc = 26,

    /// <summary>Mark the shard as holding plain writes stamped without the oracle (<see cref="Txn.TxnUnanchorCommand"/>).</summary>
    TxnUnanchor = 27,

    /// <summary>Anchor such writes below an oracle block and raise the safe point (<see cref="Txn.TxnAnchorCommand"/>).</summary>
    TxnAnchor = 28,

    /// <summary>A GC slice that also raises the lock floor, reports old locks and collects status rows (<see cref="Txn.TxnCollectCommand"/>).</summary>
    TxnCollect = 29,

    /// <summary>The primary's shard of a transaction whose other shards are prewritten, committed at once above a minimum
    /// commit timestamp (<see cref="Txn.TxnOnePhaseCommand"/> with its MinCommitTs).</summary>
    TxnOnePhasePrimary = 30,

    /// <summary>Take a lock or join its queue; by the holder, a renewal (<see cref="LockCommand"/>).</summary>
    AcquireLock = 40,

    /// <summary>Restart the holder's lease (<see cref="LockCommand"/>).</summary>
    RenewLock = 41,

    /// <summary>The holder gives the lock up, or a waiter leaves the queue (<see cref="LockCommand"/>).</summary>
    ReleaseLock = 42,

    /// <summary>The leader's decision that a holder's lease ran out on its clock (<see cref="LockCommand"/>).</summary>
    ExpireLock = 43,

    /// <summary>The leader's decision that a waiter stopped asking (<see cref="LockCommand"/>).</summary>
    ExpireLockWaiter = 44,

    /// <summary>A single-key write that carries a fencing token (<see cref="FencedWriteCommand"/>).</summary>
    FencedWrite = 45,

    /// <summary>A single-key write that sets, keeps or changes an expiry (<see cref="KvCommand"/>): the write body and
    /// the absolute expiry, keep flag and expire condition; the only command with the Expire kind.</summary>
    TimedWrite = 50,

    /// <summary>A <see cref="TimedWrite"/> that carries a fencing token (<see cref="FencedWriteCommand"/>).</summary>
    FencedTimedWrite = 51,
}
