namespace NoKv.Abstractions.Requests;

/// <summary>Which command of a merge a <see cref="MergeShardRequest"/> proposes (docs/replica.md, "Merge"). Never renumber.</summary>
public enum MergeStep
{
    /// <summary>To the source: freeze it as the source of a merge into the target.</summary>
    Prepare = 1,

    /// <summary>To the target: take the prepared source's range over.</summary>
    Commit = 2,

    /// <summary>To the source: end a prepared merge that will never commit.</summary>
    Rollback = 3,
}
