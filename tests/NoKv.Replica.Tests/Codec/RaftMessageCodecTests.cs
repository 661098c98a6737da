using System.Buffers;
using System.Buffers.Binary;
using NoKv.Grains.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Support;
using Xunit;

namespace NoKv.Replica.Tests.Codec;

/// <summary>The Raft wire format of docs/format-raft-wire.md: header, version rules and refusals.</summary>
public sealed class RaftMessageCodecTests
{
    private static readonly Message Heartbeat = new() { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3, Commit = 4 };

    [Fact]
    public void A_batch_starts_with_the_magic_and_the_version_and_matches_the_documented_bytes()
    {
        // The example of docs/format-raft-wire.md, byte for byte.
        const string Expected =
            "B7 01 " +
            "0B 0100000000000000 0200000000000000 0300000000000000 0000000000000000 0000000000000000 0400000000000000 " +
            "00 0000000000000000 0000000000000000 0000000000000000 " +
            "00000000 00000000 00";

        var payload = Encode(Heartbeat);

        Assert.Equal(Expected.Replace(" ", string.Empty, StringComparison.Ordinal), Convert.ToHexString(payload));
        Assert.Equal(85, payload.Length);
    }

    [Fact]
    public void Each_batch_built_in_a_reused_writer_carries_its_own_header()
    {
        var writer = new ArrayBufferWriter<byte>();
        RaftMessageCodec.Write(writer, Heartbeat);
        RaftMessageCodec.Write(writer, Heartbeat with { Type = MessageType.Vote });
        var first = writer.WrittenSpan.ToArray();
        writer.ResetWrittenCount();
        RaftMessageCodec.Write(writer, Heartbeat with { Type = MessageType.TimeoutNow });
        var second = writer.WrittenSpan.ToArray();

        var one = RaftMessageCodec.ReadAll(first, 2);
        var two = RaftMessageCodec.ReadAll(second, 1);

        Assert.Equal([MessageType.Heartbeat, MessageType.Vote], one.Select(m => m.Type));
        Assert.Equal(MessageType.TimeoutNow, Assert.Single(two).Type);
        Assert.Equal(2 + (2 * 83), first.Length);
        Assert.Equal([RaftMessageCodec.Magic, RaftMessageCodec.CurrentVersion], second[..2]);
    }

    [Fact]
    public void An_unversioned_batch_of_an_older_build_still_decodes_as_version_0()
    {
        var random = new Random(5);
        var messages = RandomRaftMessages.WireTypes.Select(t => RandomRaftMessages.Next(random, t)).ToArray();
        var payload = Encode(messages);
        var legacy = payload[2..];

        Assert.Equal(0, RaftMessageCodec.ReadHeader(legacy, out int version));
        Assert.Equal(0, version);
        var decoded = RaftMessageCodec.ReadAll(legacy, messages.Length);
        for (int i = 0; i < messages.Length; i++)
        {
            RandomRaftMessages.Equal(messages[i], decoded[i], $"message {i}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(255)]
    public void A_batch_of_a_newer_version_is_refused_naming_the_version_seen_and_those_supported(byte newer)
    {
        var payload = Encode(Heartbeat);
        payload[1] = newer;

        var e = Assert.Throws<UnsupportedWireVersionException>(() => RaftMessageCodec.ReadAll(payload, 1));

        Assert.Equal(newer, e.Version);
        Assert.Equal(RaftMessageCodec.MinReadableVersion, e.MinSupported);
        Assert.Equal(RaftMessageCodec.CurrentVersion, e.MaxSupported);
        Assert.Contains($"version {newer}", e.Message, StringComparison.Ordinal);
        Assert.Contains("versions 0 to 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_naming_version_0_or_cut_after_the_magic_is_malformed_not_newer()
    {
        var versionZero = Encode(Heartbeat);
        versionZero[1] = 0;

        Assert.IsNotType<UnsupportedWireVersionException>(Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(versionZero, 1)));
        Assert.IsNotType<UnsupportedWireVersionException>(Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(new byte[] { RaftMessageCodec.Magic }, 0)));
    }

    [Theory]
    [InlineData((byte)MessageType.Hup)]
    [InlineData((byte)MessageType.Propose)]
    [InlineData((byte)MessageType.Unreachable)]
    [InlineData((byte)MessageType.CheckQuorum)]
    [InlineData(20)]
    [InlineData(0xFF)]
    public void A_message_of_a_local_or_unknown_type_is_refused_in_either_version(byte type)
    {
        var payload = Encode(Heartbeat);
        payload[2] = type;

        Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(payload, 1));
        Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(payload[2..], 1));
    }

    [Fact]
    public void An_unknown_entry_type_and_a_flag_other_than_0_or_1_are_refused()
    {
        var withEntry = Encode(Heartbeat with { Type = MessageType.Append, Entries = new[] { new Entry(1, 1, new byte[] { 9 }) } });
        int entryType = 2 + 83 - 1 + 16; // header, fixed fields minus hasSnapshot, entry term and index
        Assert.Equal((byte)EntryType.Normal, withEntry[entryType]);
        withEntry[entryType] = 7;
        Assert.Contains("entry type 7", Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(withEntry, 1)).Message, StringComparison.Ordinal);

        var rejectFlag = Encode(Heartbeat);
        rejectFlag[2 + 49] = 2;
        Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(rejectFlag, 1));

        var snapshotFlag = Encode(Heartbeat);
        snapshotFlag[^1] = 2;
        Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(snapshotFlag, 1));
    }

    [Fact]
    public void An_empty_payload_is_a_batch_of_no_messages_and_nothing_more()
    {
        Assert.Empty(RaftMessageCodec.ReadAll(ReadOnlyMemory<byte>.Empty, 0));
        Assert.ThrowsAny<FormatException>(() => RaftMessageCodec.ReadAll(ReadOnlyMemory<byte>.Empty, 1));
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1 << 30)]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void A_hostile_message_count_is_refused_before_allocating(int count)
    {
        var payload = Encode(Heartbeat);

        Assert.False(DecodeCheck.DecodesOrRefuses(() => RaftMessageCodec.ReadAll(payload, count), e => e is FormatException, payload.Length, $"count {count}"));
    }

    [Fact]
    public void A_message_count_up_to_the_payload_length_is_refused_before_allocating_a_message_per_byte()
    {
        // A 1 MiB snapshot chunk claiming a message per byte: bounded by bytes alone, that would be ~120 MiB of
        // Message structs allocated before the first message failed to decode.
        var payload = Encode(Heartbeat with { Type = MessageType.Snapshot, Snapshot = new Snapshot(new SnapshotMetadata(9, 2, new ConfState(1, 2, 3)), new byte[1 << 20]) });

        Assert.False(DecodeCheck.DecodesOrRefuses(() => RaftMessageCodec.ReadAll(payload, payload.Length), e => e is FormatException, payload.Length, "a count of one per byte"));
    }

    [Fact]
    public void Hostile_lengths_written_over_every_4_byte_window_are_refused_or_decoded_within_bounds()
    {
        var random = new Random(11);
        var message = RandomRaftMessages.Next(random, MessageType.Snapshot) with
        {
            Context = new byte[] { 1, 2, 3 },
            Entries = new[] { new Entry(2, 3, new byte[] { 4, 5 }), new Entry(2, 4, EntryType.ConfChange, new byte[] { 6 }) },
        };
        var valid = Encode(message);
        foreach (int hostile in Mutator.HostileLengths)
        {
            for (int at = 0; at + 4 <= valid.Length; at++)
            {
                var bytes = (byte[])valid.Clone();
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), hostile);
                DecodeCheck.DecodesOrRefuses(() => RaftMessageCodec.ReadAll(bytes, 1), e => e is FormatException, bytes.Length, $"{hostile} at {at}");
            }
        }
    }

    internal static byte[] Encode(params Message[] messages)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (var message in messages)
        {
            RaftMessageCodec.Write(writer, message);
        }

        return writer.WrittenSpan.ToArray();
    }
}
