using NoKv.Resp.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Resp.Tests.Server;

/// <summary>The gateway driven by the real redis-cli and redis-benchmark.</summary>
public sealed class RedisToolsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Redis_cli_commands_scan_and_pipe_mode_work()
    {
        if (RedisTools.Find("redis-cli", output) is not { } cli)
        {
            return;
        }

        await using var server = await RespTestServer.StartAsync();
        string port = server.Port.ToString();
        async Task<string> Cli(params string[] args)
        {
            var (code, stdout, stderr) = await RedisTools.RunAsync(cli, ["-p", port, .. args]);
            Assert.True(code == 0, $"redis-cli {string.Join(' ', args)} exited {code}: {stderr}");
            return stdout.TrimEnd('\n');
        }

        Assert.Equal("OK", await Cli("set", "hello", "world"));
        Assert.Equal("world", await Cli("get", "hello"));
        Assert.Equal("", await Cli("get", "missing"));
        Assert.Equal("1", await Cli("incr", "n"));
        Assert.Equal("ERR unknown command 'lpush', with args beginning with: 'l' 'x' ", await Cli("lpush", "l", "x"));
        Assert.Equal("world", await Cli("-3", "get", "hello"));
        Assert.Contains("redis_version:", await Cli("info", "server"));
        Assert.Equal("OK", await Cli("set", "session", "s", "ex", "100"));
        // Each redis-cli is a process start; on a loaded machine seconds can pass between the two.
        Assert.InRange(int.Parse(await Cli("ttl", "session")), 80, 100);
        Assert.Equal("1", await Cli("persist", "session"));
        Assert.Equal("-1", await Cli("ttl", "session"));
        Assert.Equal("-2", await Cli("ttl", "missing"));

        // A transaction over two keys from redis-cli's stdin (one connection): queued, then both replies from EXEC.
        var (txCode, txOut, txErr) = await RedisTools.RunAsync(cli, ["-p", port], stdin: "MULTI\nSET acct:a 5\nINCRBY acct:b 7\nEXEC\nMGET acct:a acct:b\n");
        Assert.True(txCode == 0, txErr);
        Assert.Equal("OK\nQUEUED\nQUEUED\nOK\n7\n5\n7", txOut.TrimEnd('\n'));

        // Pipe mode: many commands in one stream, replies counted by redis-cli.
        var commands = string.Concat(Enumerable.Range(0, 500).Select(i => $"SET user:{i:D3} v{i}\r\n"));
        var (pipeCode, pipeOut, _) = await RedisTools.RunAsync(cli, ["-p", port, "--pipe"], stdin: commands);
        Assert.Equal(0, pipeCode);
        Assert.Contains("errors: 0, replies: 500", pipeOut);

        var scanned = (await Cli("--scan", "--pattern", "user:*")).Split('\n');
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"user:{i:D3}"), scanned.Order());
    }

    [Fact]
    public async Task Redis_benchmark_runs_set_and_get_without_errors()
    {
        if (RedisTools.Find("redis-benchmark", output) is not { } benchmark)
        {
            return;
        }

        await using var server = await RespTestServer.StartAsync();
        foreach (var pipeline in new[] { "1", "16" })
        {
            var (code, stdout, stderr) = await RedisTools.RunAsync(benchmark, ["-p", server.Port.ToString(), "-t", "set,get", "-n", "2000", "-c", "20", "-P", pipeline, "-q"]);
            output.WriteLine(stdout);
            Assert.True(code == 0, $"redis-benchmark exited {code}: {stderr}");
            Assert.Matches(@"SET: [\d.]+ requests per second", stdout);
            Assert.Matches(@"GET: [\d.]+ requests per second", stdout);
            Assert.DoesNotContain("ERR", stdout + stderr);
        }

        Assert.Equal(3, server.Memory.Peek("key:__rand_int__"u8.ToArray())!.Length);
    }
}
