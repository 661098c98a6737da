using System.Net;
using System.Net.Sockets;
using NoKv.Silo.Configuration;
using NoKv.Silo.Membership;

namespace NoKv.Silo.Startup;

/// <summary>
/// Checks done before Orleans starts, so the common mistakes (bad provider, busy port, unwritable data
/// directory) produce one clear sentence instead of an exception from deep inside the runtime.
/// </summary>
public static class PreflightChecks
{
    public static ClusteringProvider Run(SiloSettings settings)
    {
        if (settings.StoreId <= 0)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"StoreId must be a positive integer (got {settings.StoreId}); set it with --store-id, NOKV_STOREID or \"StoreId\" in appsettings.json.");
        }

        if (!Enum.TryParse<ClusteringProvider>(settings.Clustering.Provider, ignoreCase: true, out var provider) || !Enum.IsDefined(provider))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Unknown clustering provider '{settings.Clustering.Provider}'; use one of: {string.Join(", ", Enum.GetNames<ClusteringProvider>())}.");
        }

        if (!Enum.TryParse<LogFormat>(settings.LogFormat, ignoreCase: true, out var format) || !Enum.IsDefined(format))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Unknown log format '{settings.LogFormat}'; use one of: {string.Join(", ", Enum.GetNames<LogFormat>())}.");
        }

        if (provider is (ClusteringProvider.Redis or ClusteringProvider.AdoNet) && string.IsNullOrWhiteSpace(settings.Clustering.ConnectionString))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Clustering provider {provider} needs Clustering:ConnectionString (--connection-string or NOKV_CLUSTERING__CONNECTIONSTRING).");
        }

        if (provider == ClusteringProvider.Localhost && !string.IsNullOrWhiteSpace(settings.Clustering.PrimarySiloEndpoint) && !IPEndPoint.TryParse(settings.Clustering.PrimarySiloEndpoint, out _))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Clustering:PrimarySiloEndpoint '{settings.Clustering.PrimarySiloEndpoint}' is not an ip:port endpoint.");
        }

        foreach ((string name, string? value) in new[] { ("AdvertisedAddress", settings.AdvertisedAddress), ("ListenAddress", settings.ListenAddress) })
        {
            if (!string.IsNullOrWhiteSpace(value) && !IPAddress.TryParse(value, out _))
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"{name} '{value}' is not an IP address (host names are not accepted: membership stores addresses).");
            }
        }

        CheckPort(settings.SiloPort, "SiloPort");
        CheckPort(settings.GatewayPort, "GatewayPort");
        if (settings.SiloPort == settings.GatewayPort)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"SiloPort and GatewayPort must differ (both are {settings.SiloPort}).");
        }

        HttpPreflight.Run(settings);
        AuthPreflight.Run(settings);
        if (!string.IsNullOrWhiteSpace(settings.Debug.SlowDiskControlFile) && settings.Auth.Enabled)
        {
            // Authentication on is what every production example configures; a debug switch that slows the disk on
            // request has no place there, so the start fails rather than a warning being missed.
            throw new StartupError(StartupError.InvalidConfiguration, "Debug:SlowDiskControlFile is a test switch (it slows the disk on request) and is refused with Auth:Enabled, a production configuration; remove it.");
        }
        if (settings.Resp.Enabled)
        {
            if (!IPAddress.TryParse(settings.Resp.BindAddress, out _))
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"Resp:BindAddress '{settings.Resp.BindAddress}' is not an IP address (--resp-bind).");
            }

            int resp = settings.Resp.EffectivePort(settings.StoreId);
            CheckPort(resp, "Resp:Port");
            if (resp == settings.SiloPort || resp == settings.GatewayPort)
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"Resp:Port {resp} is also the silo or gateway port; pick another with --resp-port.");
            }
        }

        CheckDataDirectory(settings.EffectiveDataDirectory);
        if (provider == ClusteringProvider.File)
        {
            CheckMembershipDirectory(settings.EffectiveMembershipDirectory, settings.ClusterId);
        }

        return provider;
    }

    private static void CheckPort(int port, string name)
    {
        if (port is < 1 or > 65535)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"{name} must be between 1 and 65535 (got {port}).");
        }

        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            listener.Stop();
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new StartupError(StartupError.PortInUse, $"{name} {port} is not available ({(e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "already in use" : "access denied")}); pick another with --{name switch { "SiloPort" => "silo-port", "GatewayPort" => "gateway-port", _ => "resp-port" }}.");
        }
    }

    private static void CheckMembershipDirectory(string path, string clusterId)
    {
        try
        {
            _ = FileMembershipOptions.TablePath(path, clusterId);
        }
        catch (ArgumentException e)
        {
            throw new StartupError(StartupError.InvalidConfiguration, e.Message);
        }

        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, $".write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Membership directory '{path}' is not writable: {e.Message}");
        }

        // A corrupt table is reported here as one line rather than as the runtime's join failure.
        try
        {
            _ = MembershipTableFile.Read(FileMembershipOptions.TablePath(path, clusterId));
        }
        catch (MembershipTableCorruptException e)
        {
            throw new StartupError(StartupError.StartFailed, e.Message);
        }
    }

    private static void CheckDataDirectory(string path)
    {
        try
        {
            Directory.CreateDirectory(path);
            string probe = Path.Combine(path, $".write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            // Not a configuration mistake: the silo starts once space is freed, so its supervisor should keep trying.
            throw new StartupError(StartupError.StorageFailed, $"Data directory '{path}' is on a full disk: {e.Message}");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new StartupError(StartupError.StoreUnusable, $"Data directory '{path}' is not writable: {e.Message}");
        }
    }

    /// <summary>ENOSPC or EDQUOT: .NET reports errno values it does not map as the IOException's HResult.</summary>
    internal static bool IsDiskFull(IOException e) => e.HResult is 28 or 122;
}
