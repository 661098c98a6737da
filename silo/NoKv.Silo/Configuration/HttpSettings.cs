namespace NoKv.Silo.Configuration;

/// <summary>
/// The silo's HTTP port: Prometheus <c>/metrics</c>, the JSON API under <c>/api/</c> and the web dashboard at <c>/</c>
/// (docs/dashboard.md). Off unless a port is given (--http-port, NOKV_HTTP__PORT, "Http": { "Port": ... }); the local
/// cluster gives store N port 8079+N.
/// </summary>
public sealed class HttpSettings
{
    /// <summary>TCP port; 0 (the default) serves no HTTP at all.</summary>
    public int Port { get; set; }

    /// <summary>Address to bind (--http-address): 127.0.0.1 by default, 0.0.0.0 for every interface.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>Serve the dashboard's static files at <c>/</c> (the API stays on either way).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>Where the dashboard's files are; defaults to the Frontend folder copied beside the silo binary.</summary>
    public string? FrontendDirectory { get; set; }

    public bool Enabled => Port != 0;

    public string EffectiveFrontendDirectory => string.IsNullOrWhiteSpace(FrontendDirectory)
        ? Path.Combine(AppContext.BaseDirectory, "Frontend")
        : Path.GetFullPath(FrontendDirectory);
}
