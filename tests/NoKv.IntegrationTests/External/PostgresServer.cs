using System.Diagnostics;
using NoKv.IntegrationTests.Infrastructure;
using Npgsql;

namespace NoKv.IntegrationTests.External;

/// <summary>
/// A throwaway PostgreSQL 15 cluster in a temporary directory (initdb, trust authentication, loopback only, fsync off),
/// with one database; stopped (immediate) and deleted on dispose. PostgreSQL refuses to run as root, so under root its
/// commands run as the packaged 'postgres' user.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private readonly string _dir;

    private PostgresServer(string dir, int port)
    {
        _dir = dir;
        Port = port;
    }

    public int Port { get; }

    public const string Database = "nokv";

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Database={Database};Username=nokv;Pooling=true";

    public static async Task<PostgresServer> StartAsync()
    {
        string dir = Path.Combine(Path.GetTempPath(), "nokv-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        if (ExternalTool.IsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", dir], asPostgres: false);
        }

        var server = new PostgresServer(dir, SiloProcess.FreePort());
        string data = Path.Combine(dir, "data");
        await RunAsync(Path.Combine(ExternalTool.PostgresBin, "initdb"), ["-D", data, "-U", "nokv", "-A", "trust", "-E", "UTF8", "--no-sync"], asPostgres: true);
        await RunAsync(
            Path.Combine(ExternalTool.PostgresBin, "pg_ctl"),
            ["-D", data, "-l", Path.Combine(dir, "postgres.log"), "-w", "-t", "60", "-o", $"-p {server.Port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off", "start"],
            asPostgres: true);
        await using (var admin = new NpgsqlConnection($"Host=127.0.0.1;Port={server.Port};Database=postgres;Username=nokv;Pooling=false"))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", admin);
            await create.ExecuteNonQueryAsync();
        }

        return server;
    }

    /// <summary>Runs a SQL script file with psql, stopping at the first error (as deploy/README tells operators to).</summary>
    public Task RunScriptAsync(string path) =>
        RunAsync("psql", [$"host=127.0.0.1 port={Port} dbname={Database} user=nokv", "-v", "ON_ERROR_STOP=1", "-q", "-f", path], asPostgres: false);

    public void Dispose()
    {
        try
        {
            RunAsync(Path.Combine(ExternalTool.PostgresBin, "pg_ctl"), ["-D", Path.Combine(_dir, "data"), "-m", "immediate", "-w", "stop"], asPostgres: true).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // Not running.
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task RunAsync(string file, IEnumerable<string> args, bool asPostgres)
    {
        var info = new ProcessStartInfo(asPostgres && ExternalTool.IsRoot ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres && ExternalTool.IsRoot)
        {
            foreach (string a in new[] { "-u", "postgres", "--", file })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {await stderr} {await stdout}");
        }
    }
}
