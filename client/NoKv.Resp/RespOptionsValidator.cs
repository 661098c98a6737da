using System.Net;
using Microsoft.Extensions.Options;

namespace NoKv.Resp;

/// <summary>Rejects settings the gateway cannot run with, naming the setting.</summary>
internal sealed class RespOptionsValidator : IValidateOptions<RespOptions>
{
    public ValidateOptionsResult Validate(string? name, RespOptions options)
    {
        var failures = new List<string>();
        if (!IPAddress.TryParse(options.BindAddress, out _))
        {
            failures.Add($"Resp:BindAddress '{options.BindAddress}' is not an IP address.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"Resp:Port {options.Port} is not a TCP port (0-65535).");
        }

        Positive(options.MaxConnections, "MaxConnections");
        Positive(options.MaxBulkBytes, "MaxBulkBytes");
        Positive(options.MaxArguments, "MaxArguments");
        Positive(options.MaxKeyBytes, "MaxKeyBytes");
        Positive(options.MaxInlineBytes, "MaxInlineBytes");
        Positive(options.MaxQueuedCommands, "MaxQueuedCommands");
        Positive(options.MaxScanCursors, "MaxScanCursors");
        Positive(options.MaxScanCount, "MaxScanCount");
        if (options.MaxRequestBytes < options.MaxBulkBytes)
        {
            failures.Add($"Resp:MaxRequestBytes ({options.MaxRequestBytes}) must be at least Resp:MaxBulkBytes ({options.MaxBulkBytes}).");
        }

        if (options.ScanCursorLifetime <= TimeSpan.Zero)
        {
            failures.Add("Resp:ScanCursorLifetime must be positive.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(int value, string setting)
        {
            if (value <= 0)
            {
                failures.Add($"Resp:{setting} must be positive (was {value}).");
            }
        }
    }
}
