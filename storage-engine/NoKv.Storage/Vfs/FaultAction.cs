namespace NoKv.Storage.Vfs;

/// <summary>What a <see cref="FaultInjectingFileSystem"/> does to one operation.</summary>
public enum FaultAction
{
    /// <summary>Run the operation normally.</summary>
    None = 0,

    /// <summary>Do nothing and throw <see cref="InjectedFaultException"/>.</summary>
    Fail = 1,

    /// <summary>Appends only: write the first half of the data, then throw.</summary>
    ShortWrite = 2,

    /// <summary>Appends only: write the first half of the data followed by garbage in place of the rest, then throw.</summary>
    TornWrite = 3,
}
