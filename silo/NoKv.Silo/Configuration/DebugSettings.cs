namespace NoKv.Silo.Configuration;

/// <summary>
/// Switches for tests and chaos runs ("Debug" section); all off by default. The silo refuses them in a configuration
/// with client authentication on (how every production example is configured) and warns in its log at every start
/// otherwise.
/// </summary>
public sealed class DebugSettings
{
    /// <summary>
    /// A file whose content, a whole number of milliseconds, delays every file and directory sync of the store's engine:
    /// a slow disk that a chaos harness turns on and off while the silo runs (--Debug:SlowDiskControlFile,
    /// NOKV_DEBUG__SLOWDISKCONTROLFILE). No file or 0 = normal. See docs/chaos.md "Faults".
    /// </summary>
    public string? SlowDiskControlFile { get; set; }
}
