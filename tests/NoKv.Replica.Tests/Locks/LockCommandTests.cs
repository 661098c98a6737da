using System.Text;
using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;
using Xunit;

namespace NoKv.Replica.Tests.Locks;

/// <summary>The lock commands' byte layouts (docs/format-commands.md) and their refusals.</summary>
public sealed class LockCommandTests
{
    private static readonly Guid Owner = new("00112233-4455-6677-8899-aabbccddeeff");

    private static readonly LockCommand[] Commands =
    [
        new LockCommand(CommandType.AcquireLock, 7, B("job"), Owner, LeaseMs: 10_000, Wait: true),
        new LockCommand(CommandType.AcquireLock, 7, B("job"), Owner, LeaseMs: 500, Wait: false),
        new LockCommand(CommandType.RenewLock, 7, B("job"), Owner, Token: 42),
        new LockCommand(CommandType.ReleaseLock, 7, B("job"), Owner),
        new LockCommand(CommandType.ExpireLock, 7, B("job"), Token: 42, LeaseSeq: 9),
        new LockCommand(CommandType.ExpireLockWaiter, 7, B(""), Owner),
    ];

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Lock_commands_round_trip(int which)
    {
        var command = Commands[which];
        var entry = command.Encode();
        var header = CommandEnvelope.ReadHeader(entry);
        Assert.Equal(command.Type, header.Type);
        var decoded = LockCommand.Decode(header, entry);
        Assert.Equal(command with { Name = decoded.Name }, decoded);
        Assert.Equal(command.Name, decoded.Name);
        Assert.False(KvCommand.TryDecodeExpireSessions(entry, out _));
    }

    [Fact]
    public void An_acquire_is_laid_out_as_documented()
    {
        var entry = new LockCommand(CommandType.AcquireLock, 7, B("k"), Owner, LeaseMs: 1000, Wait: true).Encode();
        Assert.Equal(
            "CE0128" + "0700000000000000" + "010000006B" + "33221100554477668899AABBCCDDEEFF" + "E803000000000000" + "01",
            Convert.ToHexString(entry));
    }

    [Fact]
    public void A_fenced_write_is_the_fence_then_a_write_body()
    {
        var write = new KvCommand(WriteKind.Put, 7, new ClientSession(Owner, 42), B("k"), B("v"), null, 1234);
        var entry = new FencedWriteCommand(B("job"), 5, write).Encode();
        Assert.Equal("CE012D" + "03000000" + Convert.ToHexString(B("job")) + "0500000000000000" + Convert.ToHexString(write.Encode()[3..]), Convert.ToHexString(entry));

        var decoded = FencedWriteCommand.Decode(CommandEnvelope.ReadHeader(entry), entry);
        Assert.Equal(B("job"), decoded.Resource);
        Assert.Equal(5, decoded.Token);
        Assert.Equal(write.Key, decoded.Write.Key);
        Assert.Equal(write.Value, decoded.Write.Value);
        Assert.Equal(write.Session, decoded.Write.Session);
        Assert.Equal(write.ProposedAtMs, decoded.Write.ProposedAtMs);
    }

    [Fact]
    public void Damaged_lock_commands_are_refused_as_corrupt()
    {
        var entry = new LockCommand(CommandType.RenewLock, 7, B("job"), Owner, Token: 42).Encode();
        for (int cut = CommandEnvelope.HeaderSize; cut < entry.Length; cut++)
        {
            var shortened = entry[..cut];
            Assert.Throws<CommandFormatException>(() => LockCommand.Decode(CommandEnvelope.ReadHeader(shortened), shortened));
        }

        byte[] longer = [.. entry, 0];
        Assert.Throws<CommandFormatException>(() => LockCommand.Decode(CommandEnvelope.ReadHeader(longer), longer));

        var acquire = new LockCommand(CommandType.AcquireLock, 7, B("job"), Owner, LeaseMs: 5, Wait: true).Encode();
        acquire[^1] = 2;
        Assert.Throws<CommandFormatException>(() => LockCommand.Decode(CommandEnvelope.ReadHeader(acquire), acquire));
    }

    [Fact]
    public void A_lock_type_this_build_does_not_know_is_unsupported()
    {
        var entry = new LockCommand(CommandType.ReleaseLock, 7, B("job"), Owner).Encode();
        entry[2] = 49;
        Assert.Throws<UnsupportedCommandException>(() => CommandEnvelope.ReadHeader(entry));
    }

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
