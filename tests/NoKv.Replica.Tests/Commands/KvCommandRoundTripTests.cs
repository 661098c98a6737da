using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;
using Xunit;

namespace NoKv.Replica.Tests.Commands;

public sealed class KvCommandRoundTripTests
{
    [Theory]
    [InlineData(WriteKind.Put, "k", "v", null)]
    [InlineData(WriteKind.Delete, "k", null, null)]
    [InlineData(WriteKind.CompareAndSwap, "key", "new", "old")]
    public void A_write_command_decodes_to_what_was_encoded(WriteKind kind, string key, string? value, string? expected)
    {
        var session = new ClientSession(Guid.NewGuid(), 42);
        var command = new KvCommand(kind, 7, session, System.Text.Encoding.UTF8.GetBytes(key), Bytes(value), Bytes(expected), 1234);

        var decoded = KvCommand.Decode(command.Encode());

        Assert.Equal(kind, decoded.Kind);
        Assert.Equal(7, decoded.Epoch);
        Assert.Equal(session, decoded.Session);
        Assert.Equal(command.Key, decoded.Key);
        Assert.Equal(command.Value, decoded.Value);
        Assert.Equal(command.Expected, decoded.Expected);
        Assert.Equal(1234, decoded.ProposedAtMs);
    }

    private static byte[]? Bytes(string? text) => text is null ? null : System.Text.Encoding.UTF8.GetBytes(text);
}
