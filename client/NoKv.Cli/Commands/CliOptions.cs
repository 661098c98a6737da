using System.CommandLine;
using System.Net;

namespace NoKv.Cli.Commands;

/// <summary>Options every command accepts: where the cluster is and how long to wait.</summary>
internal static class CliOptions
{
    public static Option<string[]> Gateways { get; } = new("--gateway", "-g")
    {
        Description = "Gateway endpoint ip:port of a silo (repeatable). Default: the local cluster, 127.0.0.1:30000-30002.",
        Recursive = true,
        AllowMultipleArgumentsPerToken = true,
        DefaultValueFactory = _ => ["127.0.0.1:30000", "127.0.0.1:30001", "127.0.0.1:30002"],
    };

    public static Option<string> ClusterId { get; } = new("--cluster-id")
    {
        Description = "Orleans cluster id of the NoKV cluster.",
        Recursive = true,
        DefaultValueFactory = _ => "nokv",
    };

    public static Option<double> TimeoutSeconds { get; } = new("--timeout")
    {
        Description = "Seconds to wait for the operation, including retries.",
        Recursive = true,
        DefaultValueFactory = _ => 10,
    };

    public static Option<string?> AuthKeyFile { get; } = new("--auth-key-file")
    {
        Description = "Key file ('id:secret' lines) to sign requests with, for clusters with authentication on. Default: NOKV_AUTH__KEYFILE, else NOKV_AUTH__KEYS.",
        Recursive = true,
    };

    public static Option<string> Output { get; } = CreateOutput();

    /// <summary>Whether the command should print JSON (<c>--output json</c>).</summary>
    public static bool IsJson(ParseResult parse) => parse.GetValue(Output) == "json";

    public static IPEndPoint[] ParseGateways(string[] values)
    {
        var endpoints = new IPEndPoint[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (!IPEndPoint.TryParse(values[i], out var endpoint) || endpoint.Port == 0)
            {
                throw new ArgumentException($"--gateway '{values[i]}' is not an ip:port endpoint.");
            }

            endpoints[i] = endpoint;
        }

        return endpoints;
    }

    private static Option<string> CreateOutput()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "text (for people) or json (stable snake_case keys, for scripts).",
            Recursive = true,
            DefaultValueFactory = _ => "text",
        };
        output.AcceptOnlyFromAmong("text", "json");
        return output;
    }
}
