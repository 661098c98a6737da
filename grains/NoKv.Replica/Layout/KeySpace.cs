using System.Buffers.Binary;
using NoKv.Abstractions.Sharding;

namespace NoKv.Replica.Layout;

/// <summary>
/// The layout of one store's engine key space. The first byte separates the users of the engine; never
/// renumber these prefixes, they are on disk.
/// <code>
/// 0x01 | shard (8, big-endian) | 0x01 | index (8, big-endian)  Raft log entry: term (8 LE) | type (1) | payload
/// 0x01 | shard | 0x02                                        Raft hard state: term | vote | commit (8 LE each)
/// 0x01 | shard | 0x03                                        log truncation point: index | term (8 LE each)
/// 0x01 | shard | 0x04                                        apply state: applied index | applied term (8 LE each)
/// 0x01 | shard | 0x05 | session id (16)                      dedupe record: sequence (8 LE) | code (1) | succeeded (1)
/// 0x01 | shard | 0x06                                        replica state: this store's peer and the shard descriptor
///                                                            as of the applied index (<see cref="ReplicaStateCodec"/>)
/// 0x02 | escaped user key | 0x00 0x01 | tag ...               user data as MVCC rows (locks, transaction status,
///                                                            versions by commit timestamp; <see cref="Mvcc.MvccKeys"/>,
///                                                            docs/format-data-rows.md); shards own disjoint ranges of it
/// 0x03 | ...                                                 grain storage provider records (see NoKvGrainStorage)
/// 0x04 | controller row key                                  the controller group's rows (<see cref="SystemShards.Controller"/>,
///                                                            docs/format-controller.md); kept apart from user data so
///                                                            the controller's replica and user shards share a store
/// 0x01 | shard | 0x0B | resource                             lock fence: highest token seen (KeySpace.Locks.cs)
/// 0x01 | shard | 0x0E                                        replica tombstone: the highest peer id of the shard this
///                                                            store held and destroyed (8 LE); no peer at or below it
///                                                            is ever created or bootstrapped here again
/// 0x01 | shard | 0x0F                                        split history (KeySpace.Split.cs)
/// 0x01 | shard | 0x10                                        merge state of a prepared merge source (KeySpace.Merge.cs)
/// 0x01 | shard | 0x11                                        lease-free term (8 LE) of a group created by a split: no leader
///                                                            of the group exists at or below it (RaftConfig.LeaseFreeTerm)
/// 0x05 | lock name                                           lock record (KeySpace.Locks.cs, docs/locks.md)
/// </code>
/// Big-endian shard ids and indexes make engine order equal numeric order, so a group's log is one range,
/// truncating a suffix or compacting a prefix is one DeleteRange, and each group's state is contiguous.
/// </summary>
public static partial class KeySpace
{
    public const byte GroupPrefix = 0x01;
    public const byte DataPrefix = 0x02;

    /// <summary>Engine prefix of the controller group's replicated rows.</summary>
    public const byte ControllerDataPrefix = 0x04;

    private const byte LogTag = 0x01;
    private const byte HardStateTag = 0x02;
    private const byte TruncatedTag = 0x03;
    private const byte ApplyStateTag = 0x04;
    private const byte SessionTag = 0x05;
    private const byte ReplicaStateTag = 0x06;
    private const byte TombstoneTag = 0x0E;
    private const byte LeaseFreeTermTag = 0x11;

    public static byte[] LogKey(ShardId shard, ulong index)
    {
        var key = new byte[18];
        WriteGroup(key, shard, LogTag);
        BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(10), index);
        return key;
    }

    /// <summary>First key after every log entry of <paramref name="shard"/>.</summary>
    public static byte[] LogEnd(ShardId shard) => Tag(shard, LogTag + 1);

    public static byte[] HardStateKey(ShardId shard) => Tag(shard, HardStateTag);

    public static byte[] TruncatedKey(ShardId shard) => Tag(shard, TruncatedTag);

    /// <summary>The term at or below which the group never had a leader, when its host created it whole (a split).</summary>
    public static byte[] LeaseFreeTermKey(ShardId shard) => Tag(shard, LeaseFreeTermTag);

    public static byte[] ApplyStateKey(ShardId shard) => Tag(shard, ApplyStateTag);

    public static byte[] ReplicaStateKey(ShardId shard) => Tag(shard, ReplicaStateTag);

    /// <summary>The replica tombstone of <paramref name="shard"/> on this store (<see cref="Core.ReplicaDirectory"/>).</summary>
    public static byte[] TombstoneKey(ShardId shard) => Tag(shard, TombstoneTag);

    /// <summary>First key after the tombstone of <paramref name="shard"/>.</summary>
    public static byte[] TombstoneEnd(ShardId shard) => Tag(shard, TombstoneTag + 1);

    /// <summary>First and past-last keys of everything <paramref name="shard"/>'s replica keeps besides user data.</summary>
    public static (byte[] Start, byte[] End) GroupRange(ShardId shard)
    {
        var start = new byte[9];
        var end = new byte[9];
        start[0] = GroupPrefix;
        BinaryPrimitives.WriteInt64BigEndian(start.AsSpan(1), shard.Value);
        end[0] = GroupPrefix;
        BinaryPrimitives.WriteInt64BigEndian(end.AsSpan(1), shard.Value + 1);
        return (start, end);
    }

    public static byte[] SessionKey(ShardId shard, Guid session)
    {
        var key = new byte[26];
        WriteGroup(key, shard, SessionTag);
        session.TryWriteBytes(key.AsSpan(10));
        return key;
    }

    public static byte[] SessionStart(ShardId shard) => Tag(shard, SessionTag);

    public static byte[] SessionEnd(ShardId shard) => Tag(shard, SessionTag + 1);

    /// <summary>
    /// The first engine key of user key <paramref name="userKey"/>'s rows (its MVCC base): every row of the key,
    /// and no row of another key, starts with it, and bases sort like user keys.
    /// </summary>
    public static byte[] DataKey(ReadOnlySpan<byte> userKey) => DataKey(DataPrefix, userKey);

    /// <summary>The MVCC base of key <paramref name="key"/> of a group whose rows live under <paramref name="prefix"/>.</summary>
    public static byte[] DataKey(byte prefix, ReadOnlySpan<byte> key) => Mvcc.MvccKeys.Base(prefix, key);

    /// <summary>Engine range of user range [start, end); an empty end maps to the end of the data prefix.</summary>
    public static (byte[] Start, byte[] End) DataRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) => DataRange(DataPrefix, start, end);

    /// <summary>Engine range of [start, end) under <paramref name="prefix"/>; an empty end maps to the end of the prefix.</summary>
    public static (byte[] Start, byte[] End) DataRange(byte prefix, ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) =>
        (DataKey(prefix, start), end.IsEmpty ? [(byte)(prefix + 1)] : DataKey(prefix, end));

    /// <summary>
    /// Where a group keeps its replicated rows: the controller group under <see cref="ControllerDataPrefix"/>, every
    /// user shard under <see cref="DataPrefix"/> (user shards on one store own disjoint ranges of it; the controller's
    /// range covers its whole own prefix, so it needs one of its own).
    /// </summary>
    public static byte DataPrefixOf(ShardId shard) => shard == SystemShards.Controller ? ControllerDataPrefix : DataPrefix;

    private static byte[] Tag(ShardId shard, int tag)
    {
        var key = new byte[10];
        WriteGroup(key, shard, (byte)tag);
        return key;
    }

    private static void WriteGroup(Span<byte> key, ShardId shard, byte tag)
    {
        key[0] = GroupPrefix;
        BinaryPrimitives.WriteInt64BigEndian(key[1..], shard.Value);
        key[9] = tag;
    }
}
