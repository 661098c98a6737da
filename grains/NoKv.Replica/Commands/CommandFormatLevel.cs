using NoKv.Abstractions.Controller;

namespace NoKv.Replica.Commands;

/// <summary>
/// The command formats a build reads, as one number that grows with builds (docs/format-commands.md, "Gate"). A store
/// reports its level in every heartbeat; the controller publishes the lowest level among its stores as the cluster's,
/// and a leader proposes a command that needs a level only once the cluster's level reaches it. A rolling upgrade
/// therefore turns a new command on by itself, after the last store runs the new build, and never makes an older
/// replica meet an entry it would stop at.
/// </summary>
public static class CommandFormatLevel
{
    /// <summary>
    /// Every build with the command envelope: types 1-2, 10-13, 15, 20-29, 40-45 and 50-51. What a store of a build
    /// before levels (which reports 0) is taken to read, and the cluster's level until the controller has heard better.
    /// </summary>
    public const int Base = 1;

    /// <summary>Adds <see cref="CommandType.TxnOnePhasePrimary"/> (30).</summary>
    public const int PrimaryInOnePhase = 2;

    /// <summary>
    /// No new command: followers ignore a hibernation notice older than a heartbeat they have seen, which is what lets
    /// leaders of groups that hibernate serve reads under a lease (ReplicaCore.ReadLease.cs). A level also gates a
    /// behaviour an older build would make unsafe, not only an entry it could not read.
    /// </summary>
    public const int LeaseReadsWithHibernation = 3;

    /// <summary>The level of this build.</summary>
    public const int Current = LeaseReadsWithHibernation;

    /// <summary>The level <paramref name="heartbeat"/>'s store reads.</summary>
    public static int Of(StoreHeartbeat heartbeat) => Math.Max(heartbeat.FormatLevel, Base);
}
