namespace NoKv.Chaos.Faults;

/// <summary>The faults the harness injects (names as on the command line: kill, leader-kill, pause, partition, disk-full, slow-disk).</summary>
public enum FaultKind
{
    /// <summary>SIGKILL of a random silo, restarted after the fault's duration.</summary>
    Kill,

    /// <summary>SIGKILL of the silo leading the most shards, restarted after the duration (snapshots are frequent, see <see cref="ChaosOptions.SnapshotEntries"/>).</summary>
    LeaderKill,

    /// <summary>SIGSTOP of a random silo, SIGCONT after the duration.</summary>
    Pause,

    /// <summary>A minority of silos cut off from the others (silently dropped packets), healed after the duration.</summary>
    Partition,

    /// <summary>The disk silo's data file system (a small tmpfs) filled to the last byte, freed after the duration.</summary>
    DiskFull,

    /// <summary>
    /// One silo's disk made slow: every sync of its engine delayed by <see cref="ChaosOptions.SlowDiskMs"/> through the
    /// silo's debug switch (Debug:SlowDiskControlFile), normal again after the duration. Not in the default rotation.
    /// </summary>
    SlowDisk,
}
