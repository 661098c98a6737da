using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NoKv.Silo.Membership;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Membership;

/// <summary>
/// The file membership table against Orleans' IMembershipTable contract: conditional inserts and updates with
/// etags, a table version that only grows, atomic reads, and a typed error for a corrupt file. Separate table
/// instances over one directory stand in for separate silo processes (the lock is per open file, not per process).
/// </summary>
public sealed class FileMembershipTableTests(ITestOutputHelper output) : IDisposable
{
    private const string ClusterId = "test-cluster";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "nokv-membership-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task ConcurrentInsertsFromManyTablesEachSucceedOnceOnADistinctVersion()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        const int silos = 8;
        await Table().InitializeMembershipTable(true);

        var winningEtags = new List<string>();
        int failures = 0;
        using var stop = new CancellationTokenSource();
        var reader = WatchVersionsAsync(Table(), stop.Token);
        var writers = Enumerable.Range(0, silos).Select(i => Task.Run(async () =>
        {
            var table = Table();
            var random = new Random(seed + i);
            var entry = Entry(i);
            while (true)
            {
                var read = await table.ReadAll();
                await Task.Delay(random.Next(0, 3));
                if (await table.InsertRow(entry, read.Version.Next()))
                {
                    lock (winningEtags)
                    {
                        winningEtags.Add(read.Version.VersionEtag);
                    }

                    return;
                }

                Interlocked.Increment(ref failures);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        stop.Cancel();
        int observed = await reader;

        var final = await Table().ReadAll();
        output.WriteLine($"{failures} inserts refused on stale etags, {observed} distinct versions seen by the reader");
        Assert.Equal(silos, final.Version.Version);
        Assert.Equal(silos, final.Members.Count);
        Assert.Equal(Enumerable.Range(0, silos).Select(i => Entry(i).SiloAddress.ToParsableString()).Order(), final.Members.Select(m => m.Item1.SiloAddress.ToParsableString()).Order());

        // Compare-and-swap: no two inserts succeeded from the same table version.
        Assert.Equal(silos, winningEtags.Distinct().Count());
    }

    [Fact]
    public async Task ConcurrentUpdatesOfOneRowWithStaleEtagsFailAndEveryWinnerAdvancesTheVersionByOne()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var setup = Table();
        await setup.InitializeMembershipTable(true);
        var entry = Entry(1);
        Assert.True(await setup.InsertRow(entry, new TableVersion(1, StoredMembershipTable.InitialEtag)));

        int successes = 0, failures = 0;
        var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var table = Table();
            var random = new Random(seed + w);
            for (int attempt = 0; attempt < 15; attempt++)
            {
                var read = await table.ReadRow(entry.SiloAddress);
                var (current, etag) = read.Members.Single();
                current.SuspectTimes = [Tuple.Create(Entry(100 + w).SiloAddress, DateTime.UtcNow)];
                await Task.Delay(random.Next(0, 2));
                if (await table.UpdateRow(current, etag, read.Version.Next()))
                {
                    Interlocked.Increment(ref successes);
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();
        await Task.WhenAll(writers);

        var final = await Table().ReadAll();
        output.WriteLine($"{successes} updates won, {failures} refused");
        Assert.True(successes >= 1);
        Assert.Equal(90, successes + failures);
        Assert.Equal(1 + successes, final.Version.Version);
    }

    [Fact]
    public async Task StaleEtagsDuplicatesAndNonIncreasingVersionsAreRefusedAndChangeNothing()
    {
        var table = Table();
        await table.InitializeMembershipTable(true);
        var a = Entry(1);
        var initial = await table.ReadAll();
        Assert.Equal(0, initial.Version.Version);
        Assert.True(await table.InsertRow(a, initial.Version.Next()));

        var afterInsert = await table.ReadAll();
        string rowEtag = afterInsert.Members.Single().Item2;
        byte[] before = await File.ReadAllBytesAsync(table.TablePath);

        Assert.False(await table.InsertRow(a, afterInsert.Version.Next()));                        // the row exists
        Assert.False(await table.InsertRow(Entry(2), initial.Version.Next()));                      // stale table etag
        Assert.False(await table.InsertRow(Entry(2), new TableVersion(1, afterInsert.Version.VersionEtag))); // version does not grow
        Assert.False(await table.UpdateRow(a, "not-the-etag", afterInsert.Version.Next()));         // stale row etag
        Assert.False(await table.UpdateRow(a, rowEtag, initial.Version.Next()));                    // stale table etag
        Assert.False(await table.UpdateRow(Entry(3), rowEtag, afterInsert.Version.Next()));         // no such row
        Assert.Equal(before, await File.ReadAllBytesAsync(table.TablePath));

        a.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRow(a, rowEtag, afterInsert.Version.Next()));
        var afterUpdate = await table.ReadAll();
        Assert.Equal(2, afterUpdate.Version.Version);
        Assert.NotEqual(afterInsert.Version.VersionEtag, afterUpdate.Version.VersionEtag);
        Assert.NotEqual(rowEtag, afterUpdate.Members.Single().Item2);
        Assert.Equal(SiloStatus.Active, afterUpdate.Members.Single().Item1.Status);

        // The etag just used is now stale too.
        Assert.False(await table.UpdateRow(a, rowEtag, afterUpdate.Version.Next()));
    }

    [Fact]
    public async Task EveryFieldOfAnEntryRoundTripsAndIAmAliveTouchesOnlyTheAliveTime()
    {
        var table = Table();
        await table.InitializeMembershipTable(true);
        var entry = Entry(7);
        entry.Status = SiloStatus.Active;
        entry.SuspectTimes = [Tuple.Create(Entry(8).SiloAddress, new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc))];
        entry.RoleName = "role";
        entry.UpdateZone = 3;
        entry.FaultZone = 4;
        Assert.True(await table.InsertRow(entry, new TableVersion(1, StoredMembershipTable.InitialEtag)));
        var read = await table.ReadRow(entry.SiloAddress);
        var (stored, etag) = read.Members.Single();
        Assert.Equal(entry.ToFullString(), stored.ToFullString());
        Assert.Equal(entry.SiloAddress, stored.SiloAddress);
        Assert.Equal(entry.StartTime, stored.StartTime);

        entry.IAmAliveTime = entry.IAmAliveTime.AddMinutes(1);
        entry.Status = SiloStatus.Dead; // ignored: only the alive time is written
        await table.UpdateIAmAlive(entry);
        var after = await table.ReadRow(entry.SiloAddress);
        Assert.Equal(read.Version.Version, after.Version.Version);
        Assert.Equal(read.Version.VersionEtag, after.Version.VersionEtag);
        Assert.Equal(etag, after.Members.Single().Item2);
        Assert.Equal(entry.IAmAliveTime, after.Members.Single().Item1.IAmAliveTime);
        Assert.Equal(SiloStatus.Active, after.Members.Single().Item1.Status);

        Assert.Empty((await table.ReadRow(Entry(9).SiloAddress)).Members);
    }

    [Fact]
    public async Task CleanupRemovesOnlyDeadRowsLastAliveBeforeTheDateAndDeleteRemovesOnlyThatCluster()
    {
        var table = Table();
        await table.InitializeMembershipTable(true);
        var now = DateTime.UtcNow;
        var rows = new[] { (SiloStatus.Dead, now.AddDays(-2)), (SiloStatus.Dead, now), (SiloStatus.Active, now.AddDays(-2)) };
        for (int i = 0; i < rows.Length; i++)
        {
            var entry = Entry(i);
            (entry.Status, entry.IAmAliveTime) = rows[i];
            var read = await table.ReadAll();
            Assert.True(await table.InsertRow(entry, read.Version.Next()));
        }

        await table.CleanupDefunctSiloEntries(now.AddDays(-1));
        var left = await table.ReadAll();
        Assert.Equal([Entry(1).SiloAddress, Entry(2).SiloAddress], left.Members.Select(m => m.Item1.SiloAddress).OrderBy(a => a.Endpoint.Port));
        Assert.Equal(3, left.Version.Version);

        var other = new FileMembershipTable(_root, "other-cluster", TimeSpan.FromSeconds(5), NullLogger.Instance);
        await other.InitializeMembershipTable(true);
        Assert.True(await other.InsertRow(Entry(5), new TableVersion(1, StoredMembershipTable.InitialEtag)));
        await table.DeleteMembershipTableEntries(ClusterId);
        Assert.False(File.Exists(table.TablePath));
        Assert.Empty((await table.ReadAll()).Members);
        Assert.Single((await other.ReadAll()).Members);
    }

    public static TheoryData<string> Corruptions() => new() { "truncated", "flipped", "empty", "garbage", "future-version", "bad-json" };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public async Task ACorruptTableIsATypedErrorAndIsNeverOverwritten(string corruption)
    {
        var table = Table();
        await table.InitializeMembershipTable(true);
        Assert.True(await table.InsertRow(Entry(1), new TableVersion(1, StoredMembershipTable.InitialEtag)));
        byte[] good = await File.ReadAllBytesAsync(table.TablePath);
        byte[] bad = corruption switch
        {
            "truncated" => good[..^7],
            "flipped" => Flip(good, good.Length - 20),
            "empty" => [],
            "garbage" => "hello, membership\n{}"u8.ToArray(),
            "future-version" => System.Text.Encoding.ASCII.GetBytes(System.Text.Encoding.ASCII.GetString(good).Replace($"{MembershipTableFile.Magic} 1 ", $"{MembershipTableFile.Magic} 2 ", StringComparison.Ordinal)),
            "bad-json" => Reencoded("{\"Version\": 1, \"Rows\": [ oops"),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        await File.WriteAllBytesAsync(table.TablePath, bad);

        var error = await Assert.ThrowsAsync<MembershipTableCorruptException>(() => table.ReadAll());
        Assert.Equal(table.TablePath, error.TablePath);
        output.WriteLine(error.Message);
        await Assert.ThrowsAsync<MembershipTableCorruptException>(() => table.ReadRow(Entry(1).SiloAddress));
        await Assert.ThrowsAsync<MembershipTableCorruptException>(() => table.InsertRow(Entry(2), new TableVersion(2, "x")));
        await Assert.ThrowsAsync<MembershipTableCorruptException>(() => table.UpdateIAmAlive(Entry(1)));
        await Assert.ThrowsAsync<MembershipTableCorruptException>(() => table.InitializeMembershipTable(true));
        Assert.Equal(bad, await File.ReadAllBytesAsync(table.TablePath));

        static byte[] Flip(byte[] bytes, int at)
        {
            var copy = (byte[])bytes.Clone();
            copy[at] ^= 0x01;
            return copy;
        }

        // A well-formed header over a body that is not a table: only the decoder can catch it.
        static byte[] Reencoded(string body)
        {
            byte[] json = System.Text.Encoding.UTF8.GetBytes(body);
            uint crc = NoKv.Storage.Encoding.Crc32C.Mask(NoKv.Storage.Encoding.Crc32C.Compute(json));
            return [.. System.Text.Encoding.ASCII.GetBytes($"{MembershipTableFile.Magic} 1 {json.Length} {crc:x8}\n"), .. json];
        }
    }

    [Fact]
    public async Task AWriterWaitsForTheLockAndFailsWithATypedErrorWhenItIsNeverFreed()
    {
        var table = new FileMembershipTable(_root, ClusterId, TimeSpan.FromMilliseconds(300), NullLogger.Instance);
        await table.InitializeMembershipTable(true);
        using (await MembershipFileLock.AcquireAsync(FileMembershipOptions.LockPath(_root, ClusterId), TimeSpan.FromSeconds(5)))
        {
            await Assert.ThrowsAsync<MembershipTableLockTimeoutException>(() => table.InsertRow(Entry(1), new TableVersion(1, StoredMembershipTable.InitialEtag)));

            // Reads need no lock.
            Assert.Empty((await table.ReadAll()).Members);
        }

        Assert.True(await table.InsertRow(Entry(1), new TableVersion(1, StoredMembershipTable.InitialEtag)));
    }

    [Fact]
    public async Task TheGatewayListIsTheActiveSilosProxyEndpoints()
    {
        var table = Table();
        await table.InitializeMembershipTable(true);
        var statuses = new[] { SiloStatus.Active, SiloStatus.Joining, SiloStatus.Dead, SiloStatus.Active };
        for (int i = 0; i < statuses.Length; i++)
        {
            var entry = Entry(i);
            entry.Status = statuses[i];
            var read = await table.ReadAll();
            Assert.True(await table.InsertRow(entry, read.Version.Next()));
        }

        var provider = new FileGatewayListProvider(
            Options.Create(new FileMembershipOptions { Directory = _root }),
            Options.Create(new ClusterOptions { ClusterId = ClusterId }));
        await provider.InitializeGatewayListProvider();
        var gateways = await provider.GetGateways();
        Assert.Equal([30000, 30003], gateways.Select(g => g.Port).Order());
        Assert.All(gateways, g => Assert.Equal("127.0.0.1", g.Host));

        var none = new FileGatewayListProvider(
            Options.Create(new FileMembershipOptions { Directory = Path.Combine(_root, "absent") }),
            Options.Create(new ClusterOptions { ClusterId = ClusterId }));
        Assert.Empty(await none.GetGateways());
    }

    [Theory]
    [InlineData("")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData(".hidden")]
    public void AClusterIdThatCannotNameAFileIsRefused(string clusterId) =>
        Assert.Throws<ArgumentException>(() => new FileMembershipTable(_root, clusterId, TimeSpan.FromSeconds(1), NullLogger.Instance));

    /// <summary>Reads the table until cancelled; fails if the version or the row count ever goes down. Returns the versions seen.</summary>
    private static async Task<int> WatchVersionsAsync(FileMembershipTable table, CancellationToken stop)
    {
        var seen = new HashSet<int>();
        int lastVersion = -1, lastRows = -1;
        while (!stop.IsCancellationRequested)
        {
            var read = await table.ReadAll();
            Assert.True(read.Version.Version >= lastVersion, $"version went from {lastVersion} to {read.Version.Version}");
            Assert.True(read.Members.Count >= lastRows, $"rows went from {lastRows} to {read.Members.Count}");

            // Every insert bumps the version by one, so a consistent snapshot has as many rows as its version.
            Assert.Equal(read.Version.Version, read.Members.Count);
            (lastVersion, lastRows) = (read.Version.Version, read.Members.Count);
            seen.Add(lastVersion);
        }

        return seen.Count;
    }

    private FileMembershipTable Table() => new(_root, ClusterId, TimeSpan.FromSeconds(10), NullLogger.Instance);

    private static MembershipEntry Entry(int i) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, 11000 + i, 1000 + i),
        Status = SiloStatus.Joining,
        ProxyPort = 30000 + i,
        HostName = "host",
        SiloName = $"store-{i}",
        StartTime = new DateTime(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc),
        IAmAliveTime = new DateTime(2026, 12, 6, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i),
    };

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
