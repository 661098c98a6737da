namespace NoKv.Silo.Configuration;

/// <summary>Short command-line forms mapped to configuration keys.</summary>
public static class CommandLineSwitches
{
    public static IDictionary<string, string> Map { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--cluster-id"] = "ClusterId",
        ["--service-id"] = "ServiceId",
        ["--silo-name"] = "SiloName",
        ["--store-id"] = "StoreId",
        ["--data-dir"] = "DataDirectory",
        ["--compression"] = "Compression",
        ["--memory-budget"] = "MemoryBudgetBytes",
        ["--silo-port"] = "SiloPort",
        ["--gateway-port"] = "GatewayPort",
        ["--advertised-address"] = "AdvertisedAddress",
        ["--listen-address"] = "ListenAddress",
        ["--clustering"] = "Clustering:Provider",
        ["--primary"] = "Clustering:PrimarySiloEndpoint",
        ["--connection-string"] = "Clustering:ConnectionString",
        ["--membership-dir"] = "Clustering:MembershipDirectory",
        ["--log-format"] = "LogFormat",
        ["--http-port"] = "Http:Port",
        ["--http-address"] = "Http:Address",
        ["--otlp-endpoint"] = "Telemetry:OtlpEndpoint",
        ["--resp-port"] = "Resp:Port",
        ["--resp-bind"] = "Resp:BindAddress",
        ["--resp-password-file"] = "Resp:PasswordFile",
        ["--auth"] = "Auth:Enabled",
        ["--auth-key-file"] = "Auth:KeyFile",
    };
}
