using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Controller.Operations;

/// <summary>
/// The argument of a merge operation row (the row's shard is the source), docs/format-controller.md:
/// <code>
/// version (1) = 1 | target (8) | source epoch (8) | source conf version (8) | target epoch (8) | target conf version (8)
///   | prepare index (8) | prepare term (8) | child operation (8) | moves started (4)
/// </code>
/// little-endian. The expected source epoch and conf version are recorded when co-location ends (before the first
/// prepare is proposed), the prepare's position when a replica shows it applied, the expected target epoch and conf
/// version with the decision to commit (before the first commit is proposed), the child operation while a replica
/// move co-locates the shards.
/// </summary>
public sealed record MergeArgument(
    ShardId Target,
    long SourceEpoch,
    long SourceConfVersion,
    long TargetEpoch,
    long TargetConfVersion,
    ulong PrepareIndex,
    ulong PrepareTerm,
    long ChildOperation,
    int MovesStarted)
{
    private const byte Version = 1;
    private const int Length = 69;

    public static MergeArgument For(ShardId target) => new(target, 0, 0, 0, 0, 0, 0, 0, 0);

    public byte[] Encode()
    {
        var bytes = new byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(1), Target.Value);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(9), SourceEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(17), SourceConfVersion);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(25), TargetEpoch);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(33), TargetConfVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(41), PrepareIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(49), PrepareTerm);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(57), ChildOperation);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(65), MovesStarted);
        return bytes;
    }

    /// <exception cref="InvalidDataException">Not a version 1 merge argument.</exception>
    public static MergeArgument Decode(byte[] argument)
    {
        if (argument.Length != Length || argument[0] != Version)
        {
            throw new InvalidDataException($"A merge operation argument of {argument.Length} bytes, version {(argument.Length == 0 ? 0 : argument[0])}, is not a version 1 argument.");
        }

        return new MergeArgument(
            new ShardId(BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(1))),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(9)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(17)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(25)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(33)),
            BinaryPrimitives.ReadUInt64LittleEndian(argument.AsSpan(41)),
            BinaryPrimitives.ReadUInt64LittleEndian(argument.AsSpan(49)),
            BinaryPrimitives.ReadInt64LittleEndian(argument.AsSpan(57)),
            BinaryPrimitives.ReadInt32LittleEndian(argument.AsSpan(65)));
    }
}
