using System.CommandLine;
using NoKv.Cli.Commands;

// `nokv`: the NoKV command-line client. See `nokv --help`.
var root = new RootCommand("NoKV command-line client: key-value operations, locks and cluster status.")
{
    CliOptions.Gateways,
    CliOptions.ClusterId,
    CliOptions.TimeoutSeconds,
    KvCommands.Put(),
    KvCommands.Get(),
    KvCommands.Delete(),
    KvCommands.CompareAndSwap(),
    KvCommands.Scan(),
    ClusterCommands.Cluster(),
    LockCommands.Lock(),
};

return await root.Parse(args).InvokeAsync();
