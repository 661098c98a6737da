using NoKv.Replica.Mvcc;
using Xunit;

namespace NoKv.Replica.Tests.Codec;

public sealed class MvccFloorTests
{
    [Fact]
    public void An_anchored_floor_is_written_in_format_1_so_older_builds_read_it()
    {
        var floor = new MvccFloor(10, 20, 5);
        byte[] row = floor.Encode();
        Assert.Equal(25, row.Length);
        Assert.Equal(1, row[0]);
        Assert.Equal(floor, MvccFloor.Decode(row));
    }

    [Fact]
    public void An_unanchored_floor_round_trips_in_format_2()
    {
        var floor = new MvccFloor(10, 20, 5, Unanchored: true);
        byte[] row = floor.Encode();
        Assert.Equal(26, row.Length);
        Assert.Equal(2, row[0]);
        Assert.Equal(floor, MvccFloor.Decode(row));
    }

    [Theory]
    [InlineData("01")]
    [InlineData("02000000000000000000000000000000000000000000000000")]
    [InlineData("0200000000000000000000000000000000000000000000000002")]
    [InlineData("0300000000000000000000000000000000000000000000000001")]
    public void A_damaged_or_unknown_floor_row_is_refused(string hex) =>
        Assert.Throws<InvalidDataException>(() => MvccFloor.Decode(Convert.FromHexString(hex)));

    [Fact]
    public void Combining_keeps_each_bound_at_the_higher_and_stays_unanchored_if_either_is()
    {
        var combined = new MvccFloor(10, 3, 7).Combine(new MvccFloor(4, 9, 2, Unanchored: true));
        Assert.Equal(new MvccFloor(10, 9, 7, Unanchored: true), combined);
    }
}
