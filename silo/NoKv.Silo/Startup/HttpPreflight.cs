using System.Net;
using System.Net.Sockets;
using NoKv.Silo.Configuration;

namespace NoKv.Silo.Startup;

/// <summary>Start-up checks of the HTTP port and telemetry settings: one clear sentence per mistake.</summary>
public static class HttpPreflight
{
    public static void Run(SiloSettings settings)
    {
        var http = settings.Http;
        if (http.Port is < 0 or > 65535)
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Http:Port must be between 1 and 65535, or 0 for no HTTP port (got {http.Port}).");
        }

        if (!IPAddress.TryParse(http.Address, out var address))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Http:Address '{http.Address}' is not an IP address (use 127.0.0.1, 0.0.0.0 or an interface's address).");
        }

        if (http.Enabled)
        {
            if (http.Port == settings.SiloPort || http.Port == settings.GatewayPort)
            {
                throw new StartupError(StartupError.InvalidConfiguration, $"Http:Port {http.Port} is also the silo or gateway port.");
            }

            try
            {
                using var listener = new TcpListener(address, http.Port);
                listener.Start();
                listener.Stop();
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied or SocketError.AddressNotAvailable)
            {
                throw new StartupError(StartupError.PortInUse, $"Http:Port {http.Port} on {address} is not available ({e.SocketErrorCode}); pick another with --http-port.");
            }
        }

        var telemetry = settings.Telemetry;
        if (!string.IsNullOrWhiteSpace(telemetry.OtlpEndpoint) && (!Uri.TryCreate(telemetry.OtlpEndpoint, UriKind.Absolute, out var otlp) || otlp.Scheme is not ("http" or "https")))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Telemetry:OtlpEndpoint '{telemetry.OtlpEndpoint}' is not an http(s) URL (e.g. http://127.0.0.1:4317).");
        }

        if (!Enum.TryParse<OpenTelemetry.Exporter.OtlpExportProtocol>(telemetry.OtlpProtocol, ignoreCase: true, out _))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Telemetry:OtlpProtocol '{telemetry.OtlpProtocol}' is not one of Grpc, HttpProtobuf.");
        }

        if (telemetry.TraceSampleRatio is < 0 or > 1 || double.IsNaN(telemetry.TraceSampleRatio))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Telemetry:TraceSampleRatio must be between 0 and 1 (got {telemetry.TraceSampleRatio}).");
        }

        if (http.Dashboard && http.Enabled && !Directory.Exists(http.EffectiveFrontendDirectory))
        {
            throw new StartupError(StartupError.InvalidConfiguration, $"Http:FrontendDirectory '{http.EffectiveFrontendDirectory}' does not exist (set Http:Dashboard false to serve only the API and /metrics).");
        }
    }
}
