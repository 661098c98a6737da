namespace NoKv.Raft.Messages;

/// <summary>What an entry's payload means to the state machine.</summary>
/// <remarks>Written to disk inside every log entry: never renumber, only append new values.</remarks>
public enum EntryType : byte
{
    /// <summary>An application command (or an empty entry a new leader appends to commit its term).</summary>
    Normal = 0,

    /// <summary>A membership change; <see cref="Entry.Data"/> holds an encoded <see cref="ConfChange"/>.</summary>
    ConfChange = 1,
}
