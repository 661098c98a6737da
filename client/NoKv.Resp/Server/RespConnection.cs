using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NoKv.Resp.Execution;
using NoKv.Resp.Protocol;

namespace NoKv.Resp.Server;

/// <summary>
/// One client connection: reads requests through a PipeReader, runs them strictly in order (Redis's per-connection
/// ordering: a GET pipelined after a SET sees it), and writes replies through a PipeWriter, flushed once per batch
/// of pipelined requests rather than once per reply. A protocol error is answered and closes the connection; a
/// failing command is answered with an error and the connection goes on. Holds the connection's state: protocol
/// version, name, authentication, the MULTI queue and WATCHed keys. Not thread-safe: its loop is its only user.
/// </summary>
internal sealed partial class RespConnection
{
    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly RespRequest _request = new();
    private readonly RespParserLimits _limits;

    public RespConnection(RespServer server, Socket socket, long id, ILogger logger)
    {
        Server = server;
        _socket = socket;
        Id = id;
        _logger = logger;
        _limits = RespParserLimits.From(server.Options);
        Authenticated = server.Options.Password is null;
    }

    public long Id { get; }

    public RespServer Server { get; }

    public RespWriter Writer { get; private set; } = null!;

    public Task Running { get; set; } = Task.CompletedTask;

    public string? Name { get; set; }

    public bool Authenticated { get; set; }

    /// <summary>Set by QUIT: the loop flushes the reply, then closes.</summary>
    public bool CloseRequested { get; set; }

    public CancellationToken Aborted { get; private set; }

    /// <summary>Non-null between MULTI and EXEC/DISCARD.</summary>
    public List<QueuedCommand>? Queue { get; set; }

    /// <summary>A command failed to queue: EXEC must answer EXECABORT.</summary>
    public bool QueueFailed { get; set; }

    /// <summary>One entry per WATCH since the last EXEC, DISCARD or UNWATCH.</summary>
    public List<WatchedKeys> Watched { get; } = new();

    public string RemoteAddress { get; private set; } = "?";

    public async Task RunAsync(CancellationToken stopping)
    {
        Aborted = stopping;
        RemoteAddress = _socket.RemoteEndPoint?.ToString() ?? "?";
        var stream = new NetworkStream(_socket, ownsSocket: true);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4 * 1024, leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
        Writer = new RespWriter(writer);
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(stopping).ConfigureAwait(false);
                var buffer = read.Buffer;
                bool close = false;

                // Every complete request in this read runs before one flush; arguments are copied out by the parser,
                // and the buffer is only released (AdvanceTo) after the last of them.
                while (!close)
                {
                    var status = RespParser.TryParse(ref buffer, _request, _limits, out var error);
                    if (status == RespParseStatus.Incomplete)
                    {
                        break;
                    }

                    if (status == RespParseStatus.Empty)
                    {
                        continue;
                    }

                    if (status == RespParseStatus.Error)
                    {
                        Writer.WriteError("ERR " + error);
                        RespServer.Log.ProtocolError(_logger, Id, error!);
                        close = true;
                        break;
                    }

                    await DispatchAsync(_request).ConfigureAwait(false);
                    close = CloseRequested;
                }

                reader.AdvanceTo(buffer.Start, read.Buffer.End);
                var flush = await writer.FlushAsync(stopping).ConfigureAwait(false);
                if (close || read.IsCompleted || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The gateway is stopping.
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            RespServer.Log.ConnectionLost(_logger, Id, e.Message);
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
            await writer.CompleteAsync().ConfigureAwait(false);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
