using NoKv.Silo.Configuration;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// A scratch folder for tests of the silo's start-up checks, and settings for one store whose data and ports are
/// its own, so such tests never meet each other's files or listeners. Deleted on dispose.
/// </summary>
public sealed class StartupScratch : IDisposable
{
    public StartupScratch(string purpose)
    {
        Root = Path.Combine(Path.GetTempPath(), $"nokv-{purpose}-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>Settings of store 1 with data under <see cref="Root"/> and free ports, then <paramref name="change"/>.</summary>
    public SiloSettings Settings(Action<SiloSettings> change)
    {
        var settings = new SiloSettings
        {
            StoreId = 1,
            DataDirectory = Path.Combine(Root, "data"),
            SiloPort = SiloProcess.FreePort(),
            GatewayPort = SiloProcess.FreePort(),
        };
        settings.Resp.Port = SiloProcess.FreePort();
        change(settings);
        return settings;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file a failed test left open; the next run uses another folder.
        }
    }
}
