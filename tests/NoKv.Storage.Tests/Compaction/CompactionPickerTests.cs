using NoKv.Storage.Compaction;
using NoKv.Storage.Manifest;
using NoKv.Storage.Tests.Support;
using Xunit;
using Version = NoKv.Storage.Manifest.Version;

namespace NoKv.Storage.Tests.Compaction;

/// <summary>
/// Which compaction the picker takes when level 0 and an oversized level 1 are due together: by score alone, or
/// (<see cref="StorageOptions.CostAwareCompactionPicking"/>) the one that moves more bytes down per byte it writes.
/// </summary>
public sealed class CompactionPickerTests
{
    private const long MiB = 1 << 20;

    private static StorageOptions Options(bool costAware) => new()
    {
        Level0CompactionTrigger = 4,
        Level0SlowdownTrigger = 20,
        MaxBytesForLevelBase = 256 * MiB,
        LevelSizeMultiplier = 10,
        CostAwareCompactionPicking = costAware,
    };

    /// <summary>
    /// <paramref name="l0Files"/> level-0 files of 16 MiB over the whole key space, level 1 of <paramref name="l1Mib"/>
    /// and level 2 of <paramref name="l2Mib"/> in 64 MiB tables of disjoint ranges: the shape of a random bulk load.
    /// </summary>
    private static Version Tree(int l0Files, long l1Mib, long l2Mib)
    {
        ulong number = 1;
        FileMetaData[] l0 = [.. Enumerable.Range(0, l0Files).Select(_ => TestTables.Meta(number++, 16 * MiB, "a", "z"))];
        return new Version([l0, Level(ref number, l1Mib), Level(ref number, l2Mib), []], null);
    }

    private static FileMetaData[] Level(ref ulong number, long mib)
    {
        int count = (int)(mib / 64);
        var files = new FileMetaData[count];
        for (int i = 0; i < count; i++)
        {
            files[i] = TestTables.Meta(number++, 64 * MiB, $"k{i * 2:D3}", $"k{(i * 2) + 1:D3}");
        }

        return files;
    }

    [Fact]
    public void By_score_alone_level_0_goes_first_over_a_level_1_at_four_times_its_target_once_it_has_more_files()
    {
        // Level 1 scores 1024/256 = 4. Level 0 scores 7/4 = 1.75 with 7 files, and 4.25 with 17.
        Assert.Equal(1, new CompactionPicker(Options(costAware: false)).Pick(Tree(l0Files: 7, l1Mib: 1024, l2Mib: 1024))!.Level);
        Assert.Equal(0, new CompactionPicker(Options(costAware: false)).Pick(Tree(l0Files: 17, l1Mib: 1024, l2Mib: 1024))!.Level);
    }

    [Fact]
    public void Cost_aware_takes_level_1_first_when_merging_level_0_into_it_would_write_more_per_byte_moved()
    {
        // 17 files (272 MiB) into 1 GiB of level 1 writes 1,296 MiB to move 272 (21%); a level-1 table takes one of
        // level 2's along (1024/1024), moving half of what it writes. 1024^2 > 272 * 1024.
        Version v = Tree(l0Files: 17, l1Mib: 1024, l2Mib: 1024);
        Assert.Equal(0, new CompactionPicker(Options(costAware: false)).Pick(v)!.Level);
        CompactionPlan? plan = new CompactionPicker(Options(costAware: true)).Pick(v);
        Assert.NotNull(plan);
        Assert.Equal(1, plan.Level);
        Assert.Equal(2, plan.OutputLevel);
        Assert.Single(plan.Inputs);
    }

    [Fact]
    public void Cost_aware_keeps_level_0_first_when_it_is_the_cheaper_move_or_next_to_the_slowdown_trigger()
    {
        var picker = new CompactionPicker(Options(costAware: true));

        // Level 1 within its target: nothing else is due.
        Assert.Equal(0, picker.Pick(Tree(l0Files: 4, l1Mib: 192, l2Mib: 2048))!.Level);

        // 320^2 < 96 * 2048: level 0's merge moves more per byte than level 1's would (level 2 is large under it).
        Assert.Equal(0, picker.Pick(Tree(l0Files: 6, l1Mib: 320, l2Mib: 2048))!.Level);

        // One file short of the slowdown trigger (20), level 0 goes first whatever level 1 costs: writers are not slowed
        // down for the sake of write amplification. (1024^2 > 304 * 1024 would have sent level 1 first.)
        Assert.Equal(0, picker.Pick(Tree(l0Files: 19, l1Mib: 1024, l2Mib: 1024))!.Level);
    }

}
