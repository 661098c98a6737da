using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoKv.Client;
using NoKv.Resp.Server;
using NoKv.Resp.Tests.Fakes;
using StackExchange.Redis;

namespace NoKv.Resp.Tests.Infrastructure;

/// <summary>A gateway on a free loopback port over a store (an <see cref="InMemoryKvStore"/> unless given), stopped on dispose.</summary>
internal sealed class RespTestServer : IAsyncDisposable
{
    private RespTestServer(RespServer server, IKvStore store)
    {
        Server = server;
        Store = store;
    }

    public RespServer Server { get; }

    public IKvStore Store { get; }

    public InMemoryKvStore Memory => (InMemoryKvStore)Store;

    public int Port => Server.LocalEndPoint!.Port;

    public IPEndPoint EndPoint => Server.LocalEndPoint!;

    public static async Task<RespTestServer> StartAsync(Action<RespOptions>? configure = null, IKvStore? store = null)
    {
        var options = new RespOptions { Port = 0 };
        configure?.Invoke(options);
        store ??= new InMemoryKvStore();
        var server = new RespServer(store, Options.Create(options), NullLogger<RespServer>.Instance);
        await server.StartAsync(CancellationToken.None);
        return new RespTestServer(server, store);
    }

    /// <summary>A StackExchange.Redis multiplexer for this gateway (RESP2 or RESP3), without the pub/sub configuration channel.</summary>
    public async Task<ConnectionMultiplexer> ConnectAsync(RedisProtocol protocol = RedisProtocol.Resp2, string? password = null)
    {
        var config = new ConfigurationOptions
        {
            EndPoints = { EndPoint },
            Protocol = protocol,
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 10_000,
            AsyncTimeout = 10_000,
            ConfigurationChannel = "",
            TieBreaker = "",
            Password = password,
        };
        return await ConnectionMultiplexer.ConnectAsync(config);
    }

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
