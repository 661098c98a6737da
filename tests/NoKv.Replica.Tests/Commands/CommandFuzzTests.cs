using NoKv.Abstractions.Requests;
using NoKv.Replica.Commands;
using NoKv.Replica.Tests.Support;
using Xunit;

namespace NoKv.Replica.Tests.Commands;

/// <summary>
/// Seeded fuzzing of the command decoders (seeds: <see cref="FuzzSeeds"/>; each test's name carries its seed and
/// every failure message names the case). Random commands round-trip; damaged and random entries decode or are
/// refused with CommandFormatException or UnsupportedCommandException, never anything else, within bounded memory,
/// through both ways a state machine reads an entry (header first, or try-expiry-then-write).
/// </summary>
public sealed class CommandFuzzTests
{
    private const int CommandsPerSeed = 64;
    private const int MutationsPerSeed = 600;

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Random_commands_round_trip(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < CommandsPerSeed; i++)
        {
            var command = NextWrite(random);
            var entry = command.Encode();

            Assert.Equal(command.Timed ? CommandType.TimedWrite : CommandType.Write, CommandEnvelope.ReadHeader(entry).Type);
            Assert.False(KvCommand.TryDecodeExpireSessions(entry, out _), $"seed {seed}, command {i}: a write read as an expiry");
            Assert.True(KvCommandComparer.Instance.Equals(command, KvCommand.Decode(entry)), $"seed {seed}, command {i}: {command} did not round-trip");

            long cutoff = random.NextInt64(long.MinValue, long.MaxValue);
            Assert.True(KvCommand.TryDecodeExpireSessions(KvCommand.EncodeExpireSessions(cutoff), out long decoded));
            Assert.Equal(cutoff, decoded);
        }
    }

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Damaged_entries_decode_or_are_refused_with_a_command_error(int seed)
    {
        var random = new Random(seed);
        var valids = new List<byte[]>();
        for (int i = 0; i < 8; i++)
        {
            valids.Add(NextWrite(random).Encode());
        }

        valids.Add(KvCommand.EncodeExpireSessions(random.NextInt64()));
        valids.Add(LegacyTimedWrite(valids[0]));
        valids.Add(NextLockCommand(random).Encode());
        valids.Add(NextLockCommand(random).Encode());
        valids.Add(new FencedWriteCommand(Mutator.RandomBytes(random, 1 + random.Next(16)), random.NextInt64(), NextWrite(random)).Encode());
        valids.Add(NextTimedWrite(random).Encode());
        valids.Add(NextTimedWrite(random).Encode());
        valids.Add(new FencedWriteCommand(Mutator.RandomBytes(random, 1 + random.Next(16)), random.NextInt64(), NextTimedWrite(random)).Encode());
        valids.Add([3, .. KvCommand.EncodeExpireSessions(random.NextInt64())[3..]]);
        valids.Add(new SplitCommand(random.NextInt64(), Mutator.RandomBytes(random, 1 + random.Next(32)), new NoKv.Abstractions.Sharding.ShardId(random.NextInt64()),
            Enumerable.Range(0, 1 + random.Next(5)).Select(i => new SplitPeer(new NoKv.Abstractions.Sharding.StoreId(i + 1), (ulong)random.NextInt64())).ToArray()).Encode());
        valids.Add(new PreferLeaderCommand(1 + (ulong)random.NextInt64(long.MaxValue)).Encode());

        valids.Add(new PrepareMergeCommand(random.NextInt64(), random.NextInt64(), new NoKv.Abstractions.Sharding.ShardId(random.NextInt64())).Encode());
        valids.Add(new RollbackMergeCommand(random.NextInt64(), (ulong)random.NextInt64()).Encode());
        valids.Add(new CommitMergeCommand(random.NextInt64(), random.NextInt64(), (ulong)random.NextInt64(), (ulong)random.NextInt64(),
            new NoKv.Abstractions.Sharding.ShardDescriptor(new NoKv.Abstractions.Sharding.ShardId(random.NextInt64()), new NoKv.Abstractions.Sharding.KeyRange([1, .. Mutator.RandomBytes(random, random.Next(8))], [2]), random.NextInt64(), random.NextInt64(),
                Enumerable.Range(0, 1 + random.Next(4)).Select(i => new NoKv.Abstractions.Sharding.PeerDescriptor((ulong)random.NextInt64(), new NoKv.Abstractions.Sharding.StoreId(i + 1), NoKv.Abstractions.Sharding.PeerRole.Voter)).ToArray())).Encode());

        int decoded = 0;
        for (int m = 0; m < MutationsPerSeed; m++)
        {
            var damaged = Mutator.Mutate(random, valids[random.Next(valids.Count)], out string how);
            string context = $"seed {seed}, mutation {m} ({how})";
            if (DecodeCheck.DecodesOrRefuses(() => DecodeByHeader(damaged), IsCommandError, damaged.Length, context + ", by header"))
            {
                decoded++;
            }

            DecodeCheck.DecodesOrRefuses(() => DecodeAsTheStateMachineDoes(damaged), IsCommandError, damaged.Length, context + ", expiry then write");
        }

        // Bit flips in keys and values still decode: the test must not only exercise the refusals.
        Assert.True(decoded > 0, $"seed {seed}: no damaged entry decoded");
    }

    [Theory]
    [MemberData(nameof(FuzzSeeds.All), MemberType = typeof(FuzzSeeds))]
    public void Random_bytes_are_refused_with_a_command_error_or_decode(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 300; i++)
        {
            var bytes = Mutator.RandomBytes(random, random.Next(120));
            if (bytes.Length > 0)
            {
                // Mostly plausible first bytes, so the bodies are exercised and not only the first-byte check.
                bytes[0] = random.Next(5) switch { 0 => bytes[0], 1 => 1, 2 => 2, 3 => 3, _ => CommandEnvelope.Magic };
            }

            if (bytes.Length > 2 && bytes[0] == CommandEnvelope.Magic && random.Next(2) == 0)
            {
                bytes[1] = CommandEnvelope.CurrentVersion;
                bytes[2] = random.Next(3) == 0 ? (byte)random.Next(50, 52) : (byte)random.Next(4);
            }

            DecodeCheck.DecodesOrRefuses(() => DecodeByHeader(bytes), IsCommandError, bytes.Length, $"seed {seed}, input {i} ({Convert.ToHexString(bytes)})");
        }
    }

    private static bool IsCommandError(Exception e) => e is CommandFormatException or UnsupportedCommandException;

    /// <summary>How a state machine dispatches: read the header, then decode the body of that type.</summary>
    private static void DecodeByHeader(byte[] entry)
    {
        var header = CommandEnvelope.ReadHeader(entry);
        switch (header.Type)
        {
            case CommandType.Write or CommandType.TimedWrite:
                KvCommand.Decode(entry);
                break;
            case CommandType.ExpireSessions:
                ExpireSessionsCommand.Decode(entry);
                break;
            case var txn when NoKv.Replica.Commands.Txn.TxnCommands.IsTxn(txn):
                NoKv.Replica.Commands.Txn.TxnCommands.Decode(header, entry);
                break;
            case CommandType.FencedWrite or CommandType.FencedTimedWrite:
                FencedWriteCommand.Decode(header, entry);
                break;
            case CommandType.Split:
                SplitCommand.Decode(header, entry);
                break;
            case CommandType.PrepareMerge:
                PrepareMergeCommand.Decode(header, entry);
                break;
            case CommandType.CommitMerge:
                CommitMergeCommand.Decode(header, entry);
                break;
            case CommandType.RollbackMerge:
                RollbackMergeCommand.Decode(header, entry);
                break;
            case CommandType.PreferLeader:
                PreferLeaderCommand.Decode(header, entry);
                break;
            case var type when LockCommand.IsLockType(type):
                LockCommand.Decode(header, entry);
                break;
            default:
                Assert.Fail($"ReadHeader returned type {header.Type}, which it does not know");
                break;
        }
    }

    /// <summary>How ShardStateMachine reads an entry today.</summary>
    private static void DecodeAsTheStateMachineDoes(byte[] entry)
    {
        if (CommandEnvelope.TryReadHeader(entry, out var header)
            && (header.Type is CommandType.FencedWrite or CommandType.FencedTimedWrite or CommandType.Split or CommandType.PreferLeader || LockCommand.IsLockType(header.Type) || NoKv.Replica.Commands.Txn.TxnCommands.IsTxn(header.Type)))
        {
            DecodeByHeader(entry);
        }
        else if (!KvCommand.TryDecodeExpireSessions(entry, out _))
        {
            KvCommand.Decode(entry);
        }
    }

    /// <summary>Half of the writes carry an expiry (a timed write), the others are plain writes.</summary>
    private static KvCommand NextWrite(Random random) => random.Next(2) == 0 ? NextTimedWrite(random) : NextPlainWrite(random);

    /// <summary>A write with an expiry, keep flag or condition, or an expiry change: always a timed write.</summary>
    private static KvCommand NextTimedWrite(Random random)
    {
        var write = NextPlainWrite(random);
        var kind = random.Next(4) == 0 ? WriteKind.Expire : write.Kind;
        var timed = write with
        {
            Kind = kind,
            ExpiresAtMs = random.Next(3) == 0 ? 0 : random.NextInt64(1, long.MaxValue),
            KeepExpiry = kind != WriteKind.Expire && random.Next(4) == 0,
            Condition = kind == WriteKind.Expire ? (ExpireCondition)random.Next(5) : ExpireCondition.Always,
        };
        return timed.Timed ? timed : timed with { ExpiresAtMs = 1 };
    }

    private static KvCommand NextPlainWrite(Random random)
    {
        var kind = (WriteKind)(1 + random.Next(3));
        return new KvCommand(
            kind,
            random.NextInt64(),
            new ClientSession(new Guid(Mutator.RandomBytes(random, 16)), random.NextInt64()),
            Mutator.RandomBytes(random, random.Next(5) == 0 ? 0 : random.Next(64)),
            random.Next(3) == 0 ? null : Mutator.RandomBytes(random, random.Next(4) == 0 ? 0 : random.Next(512)),
            kind == WriteKind.CompareAndSwap && random.Next(2) == 0 ? Mutator.RandomBytes(random, random.Next(64)) : null,
            random.NextInt64());
    }

    private static LockCommand NextLockCommand(Random random)
    {
        var type = (CommandType)random.Next((int)CommandType.AcquireLock, (int)CommandType.ExpireLockWaiter + 1);
        return new LockCommand(type, random.NextInt64(), Mutator.RandomBytes(random, random.Next(64)), new Guid(Mutator.RandomBytes(random, 16)),
            random.NextInt64(), random.NextInt64(), random.NextInt64(), random.Next(2) == 0);
    }

    /// <summary>The same write as an older build wrote it: tag 2 instead of the envelope.</summary>
    private static byte[] LegacyTimedWrite(byte[] enveloped) => [2, .. enveloped[CommandEnvelope.HeaderSize..]];
}
