using System.CommandLine;

namespace NoKv.Cli.Commands;

/// <summary>The `nokv` command tree. Commands write to the invocation's Output and Error, so tests can run them in-process.</summary>
internal static class CliApp
{
    public static RootCommand BuildRoot() => new("NoKV command-line client: key-value operations, locks, cluster status and offline store forensics.")
    {
        CliOptions.Gateways,
        CliOptions.ClusterId,
        CliOptions.TimeoutSeconds,
        CliOptions.AuthKeyFile,
        CliOptions.Output,
        KvCommands.Put(),
        KvCommands.Get(),
        KvCommands.Delete(),
        KvCommands.CompareAndSwap(),
        KvCommands.Scan(),
        ClusterCommands.Cluster(),
        WatchCommand.Create(),
        StoreCommands.Store(),
        LockCommands.Lock(),
        OperationCommands.Shard(),
        OperationCommands.Leader(),
    };

    /// <summary>Parses and runs <paramref name="args"/>; returns the exit code.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        var configuration = new InvocationConfiguration();
        if (output is not null)
        {
            configuration.Output = output;
        }

        if (error is not null)
        {
            configuration.Error = error;
        }

        return BuildRoot().Parse(args).InvokeAsync(configuration, cancellationToken);
    }
}
