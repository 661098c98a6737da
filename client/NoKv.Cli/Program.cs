using NoKv.Cli.Commands;

// `nokv`: the NoKV command-line client. See `nokv --help`.
return await CliApp.RunAsync(args);
