using System.Buffers.Binary;
using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;
using NoKv.Replica.Tests.Support;
using Xunit;

namespace NoKv.Replica.Tests.Commands;

/// <summary>The command format of docs/format-commands.md: envelope, legacy tags, and the two kinds of refusal.</summary>
public sealed class CommandEnvelopeTests
{
    private static readonly ClientSession Session = new(Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), 42);

    private static readonly KvCommand Put = new(WriteKind.Put, 7, Session, "k"u8.ToArray(), "v"u8.ToArray(), null, 1234);

    /// <summary>The write of the example in docs/format-commands.md, after its first byte(s).</summary>
    private const string WriteBody =
        "01 0700000000000000 33221100554477668899AABBCCDDEEFF 2A00000000000000 D204000000000000 010000006B 01 0100000076 00";

    [Fact]
    public void A_write_is_written_in_the_envelope_as_documented()
    {
        Assert.Equal(Hex("CE 01 01 " + WriteBody), Convert.ToHexString(Put.Encode()));
    }

    [Fact]
    public void A_timed_write_is_the_write_body_then_expiry_keep_flag_and_condition()
    {
        // The example of docs/format-commands.md: the put above, expiring at 61234 ms.
        var timed = Put with { ExpiresAtMs = 61_234 };
        Assert.Equal(Hex("CE 01 32 " + WriteBody + " 32EF000000000000 00 00"), Convert.ToHexString(timed.Encode()));
        Assert.Equal(timed, KvCommand.Decode(timed.Encode()), KvCommandComparer.Instance);

        var expire = new KvCommand(WriteKind.Expire, 7, Session, "k"u8.ToArray(), null, null, 1234, 0, false, ExpireCondition.IfHasExpiry);
        Assert.Equal(CommandType.TimedWrite, CommandEnvelope.ReadHeader(expire.Encode()).Type);
        Assert.Equal(expire, KvCommand.Decode(expire.Encode()), KvCommandComparer.Instance);

        // A write without expiry stays a type 1 write, which every build with the envelope reads.
        Assert.Equal(CommandType.Write, CommandEnvelope.ReadHeader((Put with { ExpiresAtMs = 0 }).Encode()).Type);
    }

    [Fact]
    public void In_a_timed_write_an_unknown_condition_is_unsupported_and_a_bad_keep_flag_or_a_cut_trailer_is_corrupt()
    {
        var entry = (Put with { ExpiresAtMs = 5 }).Encode();
        var condition = entry.ToArray();
        condition[^1] = 9;
        var keep = entry.ToArray();
        keep[^2] = 2;

        Assert.Contains("condition 9", Assert.Throws<UnsupportedCommandException>(() => KvCommand.Decode(condition)).Message, StringComparison.Ordinal);
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode(keep));
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode(entry[..^1]));
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode([.. entry, 0]));

        // The expire kind exists only in timed writes; a type 1 write naming it came from a build that does not exist.
        var plain = Put.Encode();
        plain[3] = (byte)WriteKind.Expire;
        Assert.Throws<UnsupportedCommandException>(() => KvCommand.Decode(plain));
    }

    [Fact]
    public void An_expire_sessions_command_is_written_in_the_envelope_as_documented()
    {
        Assert.Equal(Hex("CE 01 02 B80B000000000000"), Convert.ToHexString(KvCommand.EncodeExpireSessions(3000)));
    }

    [Fact]
    public void The_header_gives_version_and_type_without_decoding_the_body()
    {
        Assert.Equal(new CommandHeader(1, CommandType.Write, 3), CommandEnvelope.ReadHeader(Put.Encode()));
        Assert.Equal(new CommandHeader(1, CommandType.ExpireSessions, 3), CommandEnvelope.ReadHeader(KvCommand.EncodeExpireSessions(1)));
        Assert.Equal(new CommandHeader(0, CommandType.Write, 1), CommandEnvelope.ReadHeader(Bytes("02 " + WriteBody)));
        Assert.Equal(new CommandHeader(0, CommandType.ExpireSessions, 1), CommandEnvelope.ReadHeader(Bytes("03 B80B000000000000")));
    }

    [Fact]
    public void Legacy_tag_2_writes_of_older_logs_still_decode()
    {
        Assert.Equal(Put, KvCommand.Decode(Bytes("02 " + WriteBody)), KvCommandComparer.Instance);
    }

    [Fact]
    public void Legacy_tag_1_writes_without_a_timestamp_still_decode()
    {
        // Tag 1 has no proposed-at field: the body above without its 8 timestamp bytes.
        var decoded = KvCommand.Decode(Bytes("01 01 0700000000000000 33221100554477668899AABBCCDDEEFF 2A00000000000000 010000006B 01 0100000076 00"));

        Assert.Equal(Put with { ProposedAtMs = 0 }, decoded, KvCommandComparer.Instance);
    }

    [Fact]
    public void Legacy_tag_3_expire_sessions_of_older_logs_still_decode()
    {
        Assert.True(KvCommand.TryDecodeExpireSessions(Bytes("03 B80B000000000000"), out long cutoff));
        Assert.Equal(3000, cutoff);
        Assert.True(KvCommand.TryDecodeExpireSessions(KvCommand.EncodeExpireSessions(-5), out cutoff));
        Assert.Equal(-5, cutoff);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(200)]
    public void A_newer_envelope_version_is_unsupported_not_corrupt(byte version)
    {
        var entry = Put.Encode();
        entry[1] = version;

        var e = Assert.Throws<UnsupportedCommandException>(() => CommandEnvelope.ReadHeader(entry));
        Assert.Throws<UnsupportedCommandException>(() => KvCommand.Decode(entry));

        Assert.Equal(version, e.Version);
        Assert.Equal((byte)CommandType.Write, e.Type);
        Assert.Contains($"command format version {version}", e.Message, StringComparison.Ordinal);
        Assert.Contains("upgrade this store", e.Message, StringComparison.Ordinal);
        Assert.False(KvCommand.TryDecodeExpireSessions(entry, out _));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0xFF)]
    public void A_command_type_this_build_does_not_know_is_unsupported_not_corrupt(byte type)
    {
        var entry = Put.Encode();
        entry[2] = type;

        var e = Assert.Throws<UnsupportedCommandException>(() => CommandEnvelope.ReadHeader(entry));

        Assert.Equal(1, e.Version);
        Assert.Equal(type, e.Type);
        Assert.Contains($"command type {type}", e.Message, StringComparison.Ordinal);
        Assert.False(KvCommand.TryDecodeExpireSessions(entry, out _));
        Assert.Throws<UnsupportedCommandException>(() => KvCommand.Decode(entry));
    }

    [Fact]
    public void A_write_kind_added_by_a_newer_build_is_unsupported_but_in_a_legacy_entry_is_corrupt()
    {
        var enveloped = Put.Encode();
        enveloped[3] = 9;
        var legacy = Bytes("02 " + WriteBody);
        legacy[1] = 9;

        Assert.Contains("kind 9", Assert.Throws<UnsupportedCommandException>(() => KvCommand.Decode(enveloped)).Message, StringComparison.Ordinal);
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode(legacy));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("04 00")]
    [InlineData("FF")]
    [InlineData("CE")]
    [InlineData("CE 01")]
    [InlineData("CE 00 01")]
    [InlineData("CE 01 00")]
    public void Entries_no_build_writes_are_corrupt(string hex)
    {
        var entry = Bytes(hex);

        Assert.Throws<CommandFormatException>(() => CommandEnvelope.ReadHeader(entry));
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode(entry));
        Assert.False(CommandEnvelope.TryReadHeader(entry, out _));
    }

    [Fact]
    public void Trailing_bytes_a_bad_presence_flag_and_a_wrong_sized_expiry_are_corrupt()
    {
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode([.. Put.Encode(), 0]));

        var flag = Put.Encode();
        flag[^1] = 2;
        Assert.Throws<CommandFormatException>(() => KvCommand.Decode(flag));

        var longExpiry = Bytes("CE 01 02 B80B00000000000000");
        Assert.Throws<CommandFormatException>(() => KvCommand.TryDecodeExpireSessions(longExpiry, out _));
        Assert.Throws<CommandFormatException>(() => KvCommand.TryDecodeExpireSessions(Bytes("03 B80B0000"), out _));
    }

    [Fact]
    public void A_write_is_not_an_expiry_and_an_expiry_is_not_a_write()
    {
        Assert.False(KvCommand.TryDecodeExpireSessions(Put.Encode(), out _));
        Assert.Contains("not a write", Assert.Throws<CommandFormatException>(() => KvCommand.Decode(KvCommand.EncodeExpireSessions(1))).Message, StringComparison.Ordinal);
        Assert.Throws<CommandFormatException>(() => ExpireSessionsCommand.Decode(Put.Encode()));
    }

    [Fact]
    public void A_key_length_of_2_pow_31_minus_1_is_refused_before_allocating()
    {
        var entry = Put.Encode();
        BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(3 + 41), int.MaxValue);

        Assert.False(DecodeCheck.DecodesOrRefuses(() => KvCommand.Decode(entry), e => e is CommandFormatException, entry.Length, "key length 2^31-1"));
    }

    private static string Hex(string spaced) => spaced.Replace(" ", string.Empty, StringComparison.Ordinal);

    private static byte[] Bytes(string spaced) => Convert.FromHexString(Hex(spaced));
}
