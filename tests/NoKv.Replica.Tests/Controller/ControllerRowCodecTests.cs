using NoKv.Abstractions.Controller;
using NoKv.Abstractions.Sharding;
using NoKv.Replica.Controller;
using Xunit;

namespace NoKv.Replica.Tests.Controller;

/// <summary>The controller's row formats (docs/format-controller.md): round trips, and damaged or newer rows refused.</summary>
public sealed class ControllerRowCodecTests
{
    private static ShardDescriptor Shard(long id, byte[] start, byte[] end) =>
        new(new ShardId(id), new KeyRange(start, end), epoch: 3, confVersion: 5, [
            new PeerDescriptor((ulong)id << 8 | 1, new StoreId(1), PeerRole.Voter),
            new PeerDescriptor((ulong)id << 8 | 2, new StoreId(2), PeerRole.Learner),
        ]);

    [Fact]
    public void Timestamp_row_round_trips_and_refuses_other_versions()
    {
        var row = TimestampOracleRow.Encode(123_456_789);
        Assert.Equal(123_456_789, TimestampOracleRow.Decode(row));
        Assert.Equal([1], row[..1]);
        row[0] = 2;
        Assert.Throws<InvalidDataException>(() => TimestampOracleRow.Decode(row));
        Assert.Throws<InvalidDataException>(() => TimestampOracleRow.Decode(row.AsSpan(0, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => TimestampOracleRow.Encode(0));
    }

    [Fact]
    public void Store_row_round_trips()
    {
        var record = new StoreRecord(new StoreId(7), StoreState.Decommissioning, 1_700_000_000_123, 1_700_000_000_100, 500L << 30, "10.0.0.7:11111@1");
        Assert.Equal(record, StoreRecord.Decode(record.Encode()));
    }

    [Theory]
    [InlineData(0)] // version
    [InlineData(5)] // state
    public void Store_row_with_an_unknown_version_or_state_is_refused(int offset)
    {
        var row = new StoreRecord(new StoreId(1), StoreState.Up, 1, 1, 1, "a").Encode();
        row[offset] = 99;
        Assert.Throws<InvalidDataException>(() => StoreRecord.Decode(row));
    }

    [Fact]
    public void Store_row_truncated_or_extended_is_refused()
    {
        var row = new StoreRecord(new StoreId(1), StoreState.Up, 1, 1, 1, "abc").Encode();
        Assert.Throws<InvalidDataException>(() => StoreRecord.Decode(row.AsSpan(0, row.Length - 1)));
        Assert.Throws<InvalidDataException>(() => StoreRecord.Decode([.. row, 0]));
    }

    [Fact]
    public void Map_row_round_trips_with_its_allocators()
    {
        var map = new ControllerMap(4, 10, 5000, 3, [Shard(1, [], [0x40]), Shard(9, [0x40], [])]);
        var decoded = ControllerMap.Decode(map.Encode());
        Assert.Equal((4L, 10L, 5000UL, 3L), (decoded.Version, decoded.NextShardId, decoded.NextPeerId, decoded.NextOperationId));
        Assert.Equal(map.Shards.Select(s => s.ToString()), decoded.Shards.Select(s => s.ToString()));
    }

    [Fact]
    public void Map_row_that_does_not_cover_the_key_space_is_refused()
    {
        var gap = new ControllerMap(1, 3, 1000, 1, [Shard(1, [], [0x40]), Shard(2, [0x50], [])]);
        Assert.Throws<InvalidDataException>(() => ControllerMap.Decode(gap.Encode()));
    }

    [Fact]
    public void Map_from_bootstrap_allocates_above_every_bootstrap_id()
    {
        var bootstrap = new ShardMap(1, [Shard(1, [], [0x40]), Shard(2, [0x40], [])], []);
        var map = ControllerMap.FromBootstrap(bootstrap);
        Assert.Equal(3, map.NextShardId);
        Assert.True(map.NextPeerId > bootstrap.Shards.SelectMany(s => s.Peers).Max(p => p.PeerId));
        Assert.True(map.NextPeerId >= 3UL << 8, "peer ids of a future shard 3's bootstrap slots must stay free");
    }

    [Fact]
    public void Map_row_damage_is_refused_not_misread()
    {
        var row = new ControllerMap(1, 3, 1000, 1, [Shard(1, [], [])]).Encode();
        var random = new Random(42);
        for (int i = 0; i < 500; i++)
        {
            var damaged = row.ToArray();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 + random.Next(255));
            try
            {
                var decoded = ControllerMap.Decode(damaged);
                Assert.NotNull(decoded.Shards);
            }
            catch (InvalidDataException)
            {
                // The typed refusal.
            }
        }

        for (int length = 0; length < row.Length; length++)
        {
            Assert.Throws<InvalidDataException>(() => ControllerMap.Decode(row.AsSpan(0, length)));
        }
    }

    [Fact]
    public void Operation_row_round_trips_and_refuses_unknown_kinds()
    {
        var op = new OperationRecord(42, OperationKind.ReReplicate, new ShardId(3), 2, new StoreId(2), new StoreId(4), 9001, 1_700_000_000_000, 1_700_000_001_000, [1, 2, 3]);
        var decoded = OperationRecord.Decode(op.Encode());
        Assert.Equal(op with { Argument = [] }, decoded with { Argument = [] });
        Assert.Equal(op.Argument, decoded.Argument);

        var noStores = op with { From = null, To = null };
        Assert.Null(OperationRecord.Decode(noStores.Encode()).From);

        var row = op.Encode();
        row[9] = 200;
        Assert.Throws<InvalidDataException>(() => OperationRecord.Decode(row));
    }

    [Fact]
    public void Row_keys_are_disjoint_and_ordered_by_kind()
    {
        var (storeStart, storeEnd) = ControllerRows.Stores;
        var store = ControllerRows.Store(new StoreId(int.MaxValue));
        Assert.True(store.AsSpan().SequenceCompareTo(storeStart) >= 0 && store.AsSpan().SequenceCompareTo(storeEnd) < 0);
        var (opStart, opEnd) = ControllerRows.Operations;
        var op = ControllerRows.Operation(long.MaxValue);
        Assert.True(op.AsSpan().SequenceCompareTo(opStart) >= 0 && op.AsSpan().SequenceCompareTo(opEnd) < 0);
        Assert.True(ControllerRows.Map.AsSpan().SequenceCompareTo(storeStart) < 0);
        Assert.True(ControllerRows.Timestamps.AsSpan().SequenceCompareTo(ControllerRows.Map) < 0);
    }
}
