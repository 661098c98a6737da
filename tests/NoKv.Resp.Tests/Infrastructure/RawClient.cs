using System.Net.Sockets;
using System.Text;

namespace NoKv.Resp.Tests.Infrastructure;

/// <summary>A raw TCP client that sends exact bytes and reads the exact reply bytes (for framing, pipelining and bad input).</summary>
internal sealed class RawClient : IDisposable
{
    private readonly TcpClient _tcp = new();
    private NetworkStream _stream = null!;
    private readonly byte[] _buffer = new byte[64 * 1024];

    public static async Task<RawClient> ConnectAsync(int port)
    {
        var client = new RawClient();
        await client._tcp.ConnectAsync("127.0.0.1", port);
        client._stream = client._tcp.GetStream();
        return client;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads until exactly <paramref name="expected"/>'s length has arrived (or the deadline), and returns what came.</summary>
    public async Task<string> ReadAsync(int bytes, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        while (received.Length < bytes)
        {
            int n = await _stream.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(_buffer.Length, bytes - received.Length)), cts.Token);
            if (n == 0)
            {
                break;
            }

            received.Write(_buffer, 0, n);
        }

        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>Sends <paramref name="request"/> and asserts the reply is exactly <paramref name="expected"/>.</summary>
    public async Task<string> RoundTripAsync(string request, string expected)
    {
        await SendAsync(request);
        var reply = await ReadAsync(Encoding.UTF8.GetByteCount(expected));
        Xunit.Assert.Equal(expected, reply);
        return reply;
    }

    /// <summary>True once the server has closed the connection (reads return end of stream) within the deadline.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                int n = await _stream.ReadAsync(_buffer, cts.Token);
                if (n == 0)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose() => _tcp.Dispose();
}
