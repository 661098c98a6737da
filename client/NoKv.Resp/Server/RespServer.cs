using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Client;
using NoKv.Resp.Execution;
using NoKv.Resp.Scan;

namespace NoKv.Resp.Server;

/// <summary>
/// The Redis-protocol gateway: listens on its own port and serves each connection with a
/// <see cref="RespConnection"/> over the NoKV client SDK. Start binds the port (so a port in use fails the
/// host's start with a clear error); Stop closes the listener and every connection and waits for their loops.
/// Connections beyond <see cref="RespOptions.MaxConnections"/> are told so and closed, as redis-server does.
/// Thread-safe.
/// </summary>
public sealed partial class RespServer : IHostedService, IAsyncDisposable
{
    private readonly ILogger<RespServer> _logger;
    private readonly ConcurrentDictionary<long, RespConnection> _connections = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _nextClientId;
    private int _connected;
    private long _totalConnections;
    private long _commands;
    private long _rejectedConnections;

    public RespServer(IKvStore store, IOptions<RespOptions> options, ILogger<RespServer> logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Value;
        _logger = logger;
        Executor = new CommandExecutor(store);
        Store = store;
        Cursors = new ScanCursorTable(Options.MaxScanCursors, Options.ScanCursorLifetime, TimeProvider.System);
    }

    /// <summary>Where the gateway listens once started (the real port when configured with port 0).</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    internal RespOptions Options { get; }

    internal CommandExecutor Executor { get; }

    internal IKvStore Store { get; }

    internal ScanCursorTable Cursors { get; }

    internal DateTimeOffset StartedAt { get; private set; }

    internal int ConnectedClients => Volatile.Read(ref _connected);

    internal long TotalConnections => Interlocked.Read(ref _totalConnections);

    internal long RejectedConnections => Interlocked.Read(ref _rejectedConnections);

    internal long CommandsProcessed => Interlocked.Read(ref _commands);

    internal void CountCommand() => Interlocked.Increment(ref _commands);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!Options.Enabled)
        {
            return Task.CompletedTask;
        }

        var endpoint = new IPEndPoint(IPAddress.Parse(Options.BindAddress), Options.Port);
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(512);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new InvalidOperationException($"The RESP gateway cannot listen on {endpoint}: {e.Message} (set Resp:Port or Resp:BindAddress, or Resp:Enabled=false).", e);
        }

        _listener = listener;
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        StartedAt = DateTimeOffset.UtcNow;
        _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        Log.Listening(_logger, LocalEndPoint);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_listener is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        var running = new List<Task>();
        foreach (var connection in _connections.Values)
        {
            running.Add(connection.Running);
        }

        await Task.WhenAll(running).WaitAsync(cancellationToken).ConfigureAwait(false);
        _listener = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection reset before it was accepted, or descriptors exhausted: keep serving the others.
                Log.AcceptFailed(_logger, e.SocketErrorCode, e.Message);
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            socket.NoDelay = true;
            if (Interlocked.Increment(ref _connected) > Options.MaxConnections)
            {
                Interlocked.Decrement(ref _connected);
                Interlocked.Increment(ref _rejectedConnections);
                _ = RejectAsync(socket);
                continue;
            }

            Interlocked.Increment(ref _totalConnections);
            long id = Interlocked.Increment(ref _nextClientId);
            var connection = new RespConnection(this, socket, id, _logger);
            _connections[id] = connection;
            connection.Running = RunConnectionAsync(connection);
        }
    }

    private async Task RunConnectionAsync(RespConnection connection)
    {
        await Task.Yield();
        try
        {
            await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _connected);
            _connections.TryRemove(connection.Id, out _);
        }
    }

    private static async Task RejectAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                await socket.SendAsync("-ERR max number of clients reached\r\n"u8.ToArray(), SocketFlags.None).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // The client left first; nothing to tell it.
            }
        }
    }
}
