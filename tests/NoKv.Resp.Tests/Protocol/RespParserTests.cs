using System.Buffers;
using System.Text;
using NoKv.Resp.Protocol;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.Resp.Tests.Protocol;

public sealed class RespParserTests(ITestOutputHelper output)
{
    private static readonly RespParserLimits Limits = new(MaxBulkBytes: 1024, MaxArguments: 64, MaxRequestBytes: 4096, MaxInlineBytes: 256);

    [Theory]
    [InlineData("*1\r\n$4\r\nPING\r\n", new[] { "PING" })]
    [InlineData("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", new[] { "SET", "k", "" })]
    [InlineData("PING\r\n", new[] { "PING" })]
    [InlineData("PING\n", new[] { "PING" })]
    [InlineData("  set   k   v  \r\n", new[] { "set", "k", "v" })]
    [InlineData("set \"a b\" 'c d'\r\n", new[] { "set", "a b", "c d" })]
    [InlineData("echo \"\\x41\\n\\\"\"\r\n", new[] { "echo", "A\n\"" })]
    [InlineData("echo 'it\\'s'\r\n", new[] { "echo", "it's" })]
    [InlineData("echo \"\"\r\n", new[] { "echo", "" })]
    public void Parses_multibulk_and_inline_commands(string wire, string[] expected)
    {
        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        var request = new RespRequest();
        Assert.Equal(RespParseStatus.Complete, RespParser.TryParse(ref input, request, Limits, out var error));
        Assert.Null(error);
        Assert.True(input.IsEmpty);
        Assert.Equal(expected, Enumerable.Range(0, request.Count).Select(i => Encoding.UTF8.GetString(request[i])).ToArray());
    }

    [Fact]
    public void Binary_arguments_survive_byte_for_byte()
    {
        var key = new byte[] { 0, 13, 10, 255, 36, 42 };
        var wire = Concat("*2\r\n$3\r\nGET\r\n$6\r\n"u8.ToArray(), key, "\r\n"u8.ToArray());
        var input = new ReadOnlySequence<byte>(wire);
        var request = new RespRequest();
        Assert.Equal(RespParseStatus.Complete, RespParser.TryParse(ref input, request, Limits, out _));
        Assert.Equal(key, request.ToArray(1));
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("   \r\n")]
    [InlineData("*0\r\n")]
    [InlineData("*-1\r\n")]
    public void Empty_commands_are_consumed_and_skipped(string wire)
    {
        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        Assert.Equal(RespParseStatus.Empty, RespParser.TryParse(ref input, new RespRequest(), Limits, out _));
        Assert.True(input.IsEmpty);
    }

    [Theory]
    [InlineData("*1\r\n+PING\r\n", "Protocol error: expected '$', got '+'")]
    [InlineData("*x\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*65\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$-1\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$1025\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$01\r\nx\r\n", "Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$4\r\nPINGxx", "Protocol error: bulk string not terminated by CRLF")]
    [InlineData("*5\r\n$1000\r\n", null)]
    [InlineData("echo \"abc\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("echo \"abc\"def\r\n", "Protocol error: unbalanced quotes in request")]
    [InlineData("*99999999999999999999999999\r\n", "Protocol error: invalid multibulk length")]
    [InlineData("*1111111111111111111111111111111111111", "Protocol error: too big mbulk count string")]
    public void Bad_input_gets_a_protocol_error(string wire, string? expected)
    {
        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire));
        var status = RespParser.TryParse(ref input, new RespRequest(), Limits, out var error);
        if (expected is null)
        {
            // *5 of 1000-byte bulks fits the bulk limit but not the request limit (4096) only once all five are declared.
            Assert.Equal(RespParseStatus.Incomplete, status);
            return;
        }

        Assert.Equal(RespParseStatus.Error, status);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void A_request_larger_than_the_request_limit_is_refused_from_its_headers()
    {
        var wire = new StringBuilder("*6\r\n");
        for (int i = 0; i < 6; i++)
        {
            wire.Append("$1000\r\n").Append('x', 1000).Append("\r\n");
        }

        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(wire.ToString()));
        Assert.Equal(RespParseStatus.Error, RespParser.TryParse(ref input, new RespRequest(), Limits, out var error));
        Assert.Equal("Protocol error: request too large", error);
    }

    [Fact]
    public void An_inline_line_longer_than_the_limit_is_refused_before_its_end_arrives()
    {
        var input = new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(new string('a', 300)));
        Assert.Equal(RespParseStatus.Error, RespParser.TryParse(ref input, new RespRequest(), Limits, out var error));
        Assert.Equal("Protocol error: too big inline request", error);
    }

    [Fact]
    public void A_command_split_at_every_byte_and_across_segments_parses_only_when_complete()
    {
        var wire = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n*1\r\n$4\r\nPING\r\n"u8.ToArray();
        int firstEnd = wire.Length - "*1\r\n$4\r\nPING\r\n".Length;
        for (int cut = 0; cut <= wire.Length; cut++)
        {
            var request = new RespRequest();
            var prefix = new ReadOnlySequence<byte>(wire, 0, cut);
            var status = RespParser.TryParse(ref prefix, request, Limits, out _);
            Assert.Equal(cut < firstEnd ? RespParseStatus.Incomplete : RespParseStatus.Complete, status);

            // The whole input as a chain of segments split at cut: same result as contiguous.
            var chained = Segments.Split(wire, cut, cut / 2);
            Assert.Equal(RespParseStatus.Complete, RespParser.TryParse(ref chained, request, Limits, out _));
            Assert.Equal("hello", Encoding.UTF8.GetString(request[1]));
            Assert.Equal(RespParseStatus.Complete, RespParser.TryParse(ref chained, request, Limits, out _));
            Assert.Equal("PING", Encoding.UTF8.GetString(request[0]));
            Assert.True(chained.IsEmpty);
        }
    }

    /// <summary>
    /// Random bytes and mutations of valid requests (truncations, flipped bytes, huge lengths): every input parses,
    /// waits for more, or gets a protocol error; nothing throws, nothing loops, and the arena stays within the limits.
    /// </summary>
    [Fact]
    public void Fuzzed_input_never_throws_and_never_exceeds_the_limits()
    {
        int seeds = int.TryParse(Environment.GetEnvironmentVariable("NOKV_RESP_FUZZ_SEEDS"), out var n) ? n : 3000;
        var valid = new[]
        {
            "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"u8.ToArray(),
            "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"u8.ToArray(),
            "set \"a\\x00b\" 'c'\r\n"u8.ToArray(),
            "*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nPING\r\n"u8.ToArray(),
        };
        for (int seed = 0; seed < seeds; seed++)
        {
            var random = new Random(seed);
            byte[] input = random.Next(3) == 0 ? RandomBytes(random) : Mutate(random, valid[random.Next(valid.Length)]);
            try
            {
                var sequence = Segments.Split(input, random.Next(input.Length + 1), random.Next(input.Length + 1));
                var request = new RespRequest();
                for (int step = 0; step < 100; step++)
                {
                    long before = sequence.Length;
                    var status = RespParser.TryParse(ref sequence, request, Limits, out var error);
                    if (status is RespParseStatus.Incomplete)
                    {
                        Assert.Equal(before, sequence.Length);
                        break;
                    }

                    if (status is RespParseStatus.Error)
                    {
                        Assert.StartsWith("Protocol error: ", error);
                        break;
                    }

                    Assert.True(sequence.Length < before, "a parse that completes must consume input");
                    if (status == RespParseStatus.Complete)
                    {
                        Assert.InRange(request.Count, 1, Limits.MaxArguments);
                        for (int i = 0; i < request.Count; i++)
                        {
                            Assert.InRange(request[i].Length, 0, Math.Max(Limits.MaxBulkBytes, Limits.MaxInlineBytes));
                        }
                    }
                }
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                output.WriteLine($"seed {seed}: input {Convert.ToHexString(input)}");
                throw;
            }
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        if (bytes.Length > 0 && random.Next(2) == 0)
        {
            bytes[0] = (byte)'*';
        }

        return bytes;
    }

    private static byte[] Mutate(Random random, byte[] valid)
    {
        var bytes = valid.ToList();
        int mutations = random.Next(1, 4);
        for (int m = 0; m < mutations && bytes.Count > 0; m++)
        {
            int at = random.Next(bytes.Count);
            switch (random.Next(5))
            {
                case 0:
                    bytes[at] = (byte)random.Next(256);
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    bytes.InsertRange(at, Encoding.ASCII.GetBytes(random.Next(2) == 0 ? "99999999999" : "-5"));
                    break;
                case 3:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.Insert(at, (byte)"\r\n$*\"'\\"[random.Next(7)]);
                    break;
            }
        }

        return bytes.ToArray();
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
