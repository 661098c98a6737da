namespace NoKv.IntegrationTests.Serializability;

/// <summary>Adya's dependency edges between committed transactions, inferred from a list-append history.</summary>
public enum DependencyKind
{
    /// <summary>Write-write: the target's append directly follows the source's in the key's version order.</summary>
    WriteWrite,

    /// <summary>Write-read: the target read a list whose last element the source appended.</summary>
    WriteRead,

    /// <summary>Read-write (anti-dependency): the source read a list the target's append extended next.</summary>
    ReadWrite,
}
