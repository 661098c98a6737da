using NoKv.Grains.Raft;
using NoKv.Raft.Messages;
using NoKv.Replica.Tests.Support;
using Xunit;

namespace NoKv.Replica.Tests.Codec;

/// <summary>
/// Seeded fuzzing of the Raft wire decoder (seeds: <see cref="FuzzSeeds"/>; each test's name carries its seed and
/// every failure message names the case). Valid random batches of every message type round-trip; damaged and
/// random payloads decode or are refused with a FormatException, never anything else, within bounded memory.
/// </summary>
public sealed class RaftMessageCodecFuzzTests
{
    private const int BatchesPerSeed = 12;
    private const int MutationsPerSeed = 400;

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Random_batches_of_every_message_type_round_trip(int seed)
    {
        var random = new Random(seed);
        var types = RandomRaftMessages.WireTypes;
        int next = random.Next(types.Length);
        for (int b = 0; b < BatchesPerSeed; b++)
        {
            var messages = new Message[1 + random.Next(6)];
            for (int i = 0; i < messages.Length; i++)
            {
                messages[i] = RandomRaftMessages.Next(random, types[next++ % types.Length]);
            }

            var decoded = RaftMessageCodec.ReadAll(RaftMessageCodecTests.Encode(messages), messages.Length);

            Assert.Equal(messages.Length, decoded.Length);
            for (int i = 0; i < messages.Length; i++)
            {
                RandomRaftMessages.Equal(messages[i], decoded[i], $"seed {seed}, batch {b}, message {i}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Damaged_batches_decode_or_are_refused_with_a_format_error(int seed)
    {
        var random = new Random(seed);
        var valids = new (byte[] Payload, int Count)[8];
        for (int i = 0; i < valids.Length; i++)
        {
            var messages = new Message[1 + random.Next(3)];
            for (int j = 0; j < messages.Length; j++)
            {
                messages[j] = RandomRaftMessages.Next(random, RandomRaftMessages.WireTypes[random.Next(RandomRaftMessages.WireTypes.Length)]);
            }

            valids[i] = (RaftMessageCodecTests.Encode(messages), messages.Length);
        }

        int decoded = 0;
        for (int m = 0; m < MutationsPerSeed; m++)
        {
            var (valid, count) = valids[random.Next(valids.Length)];
            var damaged = Mutator.Mutate(random, valid, out string how);
            if (random.Next(8) == 0)
            {
                count = random.Next(4) == 0 ? Mutator.HostileLengths[random.Next(Mutator.HostileLengths.Length)] : count + random.Next(-2, 3);
                how += $", count {count}";
            }

            if (random.Next(10) == 0 && damaged.Length > 0)
            {
                // Also as an unversioned (version 0) batch, the other path through the header.
                damaged = damaged[Math.Min(2, damaged.Length)..];
                how += ", header removed";
            }

            if (DecodeCheck.DecodesOrRefuses(() => RaftMessageCodec.ReadAll(damaged, count), e => e is FormatException, damaged.Length, $"seed {seed}, mutation {m} ({how})"))
            {
                decoded++;
            }
        }

        // Bit flips in payload bytes and numbers still decode: the test must not only exercise the refusals.
        Assert.True(decoded > 0, $"seed {seed}: no damaged batch decoded");
    }

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Random_bytes_are_refused_with_a_format_error_or_decode(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 200; i++)
        {
            var bytes = Mutator.RandomBytes(random, random.Next(300));
            if (bytes.Length >= 2 && random.Next(2) == 0)
            {
                bytes[0] = RaftMessageCodec.Magic;
                bytes[1] = RaftMessageCodec.CurrentVersion;
            }

            int count = random.Next(3) == 0 ? random.Next() : random.Next(4);
            DecodeCheck.DecodesOrRefuses(() => RaftMessageCodec.ReadAll(bytes, count), e => e is FormatException, bytes.Length, $"seed {seed}, input {i} ({bytes.Length} bytes, count {count})");
        }
    }
}
