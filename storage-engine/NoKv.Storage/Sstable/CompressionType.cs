namespace NoKv.Storage.Sstable;

/// <summary>
/// The byte after every block's contents in a table file. Written to disk: never renumber.
/// Only <see cref="None"/> is produced today; readers reject every other value as corruption, so a
/// future codec gets a new number and old readers fail loudly instead of misreading.
/// </summary>
public enum CompressionType : byte
{
    None = 0,
}
