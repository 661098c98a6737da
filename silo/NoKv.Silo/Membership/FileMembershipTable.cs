using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace NoKv.Silo.Membership;

/// <summary>
/// An Orleans membership table kept in a file that the silos of one machine (or of one shared file system)
/// share, so no silo is special: any of them can die and come back while the others keep the table.
/// Contract (Orleans' <see cref="IMembershipTable"/>):
/// <list type="bullet">
/// <item>Reads (<see cref="ReadAll"/>, <see cref="ReadRow"/>) take no lock: the file is only ever replaced whole,
///   so one read sees one table (rows and version together).</item>
/// <item>Every change is a read-modify-write under <see cref="MembershipFileLock"/>: a conditional insert or
///   update succeeds only if the caller's table version etag (and for an update the row's etag) is the one stored,
///   and its new version is greater than the stored one; then the row gets a fresh etag and the table the caller's
///   version with a fresh etag. Otherwise it returns false and the file is not touched.</item>
/// <item><see cref="UpdateIAmAlive"/> writes the alive time only: no etag check, no version change.</item>
/// </list>
/// A missing file reads as an empty table at version 0 (etag "0"), the state <see cref="InitializeMembershipTable"/>
/// creates. A corrupt file fails every call with <see cref="MembershipTableCorruptException"/> and is never overwritten.
/// Thread-safe; file work runs on the thread pool, never on the caller's (Orleans) scheduler.
/// </summary>
public sealed partial class FileMembershipTable : IMembershipTable
{
    private readonly string _directory;
    private readonly string _tablePath;
    private readonly string _lockPath;
    private readonly TimeSpan _lockTimeout;
    private readonly ILogger _logger;

    public FileMembershipTable(IOptions<FileMembershipOptions> options, IOptions<ClusterOptions> cluster, ILogger<FileMembershipTable> logger)
        : this(options.Value.Directory, cluster.Value.ClusterId, options.Value.LockTimeout, logger)
    {
    }

    public FileMembershipTable(string directory, string clusterId, TimeSpan lockTimeout, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ArgumentException("The file membership table needs a directory (Clustering:MembershipDirectory).", nameof(directory));
        }

        _directory = Path.GetFullPath(directory);
        _tablePath = FileMembershipOptions.TablePath(_directory, clusterId);
        _lockPath = FileMembershipOptions.LockPath(_directory, clusterId);
        _lockTimeout = lockTimeout;
        _logger = logger;
    }

    /// <summary>The table file this instance reads and writes.</summary>
    public string TablePath => _tablePath;

    public Task InitializeMembershipTable(bool tryInitTableVersion) => Task.Run(async () =>
    {
        Directory.CreateDirectory(_directory);
        bool created = await MutateAsync(table => table is null && tryInitTableVersion ? (new StoredMembershipTable(), true) : (null, false)).ConfigureAwait(false);
        if (created)
        {
            LogCreated(_tablePath);
        }
        else
        {
            // Surfaces a corrupt table at start-up, before the silo tries to join through it.
            _ = MembershipTableFile.Read(_tablePath);
        }
    });

    public Task DeleteMembershipTableEntries(string clusterId) => Task.Run(async () =>
    {
        string path = FileMembershipOptions.TablePath(_directory, clusterId);
        using var held = await MembershipFileLock.AcquireAsync(FileMembershipOptions.LockPath(_directory, clusterId), _lockTimeout).ConfigureAwait(false);
        MembershipTableFile.Delete(path);
    });

    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => Task.Run(async () =>
    {
        int removed = await MutateAsync(table =>
        {
            if (table is null)
            {
                return (null, 0);
            }

            // Dead rows only: the version stays, because no live silo's view changes.
            int count = table.Rows.RemoveAll(r => r.Status == SiloStatus.Dead && new DateTimeOffset(DateTime.SpecifyKind(r.IAmAliveTime, DateTimeKind.Utc)) < beforeDate);
            return (count > 0 ? table : null, count);
        }).ConfigureAwait(false);
        if (removed > 0)
        {
            LogCleanedUp(removed, beforeDate);
        }
    });

    public Task<MembershipTableData> ReadRow(SiloAddress key) => Task.Run(() =>
    {
        var table = MembershipTableFile.Read(_tablePath) ?? new StoredMembershipTable();
        var rows = new List<Tuple<MembershipEntry, string>>();
        if (table.Find(key.ToParsableString()) is { } row)
        {
            rows.Add(Tuple.Create(row.ToEntry(), row.Etag));
        }

        return new MembershipTableData(rows, new TableVersion(table.Version, table.VersionEtag));
    });

    public Task<MembershipTableData> ReadAll() => Task.Run(() => ToData(MembershipTableFile.Read(_tablePath) ?? new StoredMembershipTable()));

    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => Task.Run(() => MutateAsync(table =>
    {
        table ??= new StoredMembershipTable();
        string key = entry.SiloAddress.ToParsableString();
        if (!Advances(table, tableVersion) || table.Find(key) is not null)
        {
            return (null, false);
        }

        table.Rows.Add(StoredMembershipRow.From(entry, NewEtag()));
        Advance(table, tableVersion);
        return (table, true);
    }));

    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => Task.Run(() => MutateAsync(table =>
    {
        string key = entry.SiloAddress.ToParsableString();
        if (table is null || !Advances(table, tableVersion) || table.Find(key) is not { } row || row.Etag != etag)
        {
            return (null, false);
        }

        table.Rows[table.Rows.IndexOf(row)] = StoredMembershipRow.From(entry, NewEtag());
        Advance(table, tableVersion);
        return (table, true);
    }));

    public Task UpdateIAmAlive(MembershipEntry entry) => Task.Run(() => MutateAsync(table =>
    {
        if (table?.Find(entry.SiloAddress.ToParsableString()) is not { } row)
        {
            // Orleans only calls this for its own row after joining; a missing row means the table was reset
            // under a live silo. Failing tells Orleans, which re-reads the table and reacts (declares itself dead).
            throw new InvalidOperationException($"Silo {entry.SiloAddress} has no row in membership table '{_tablePath}'.");
        }

        row.IAmAliveTime = entry.IAmAliveTime;
        return (table, true);
    }));

    internal static MembershipTableData ToData(StoredMembershipTable table)
    {
        var rows = new List<Tuple<MembershipEntry, string>>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            rows.Add(Tuple.Create(row.ToEntry(), row.Etag));
        }

        return new MembershipTableData(rows, new TableVersion(table.Version, table.VersionEtag));
    }

    private static bool Advances(StoredMembershipTable table, TableVersion proposed) =>
        proposed.VersionEtag == table.VersionEtag && proposed.Version > table.Version;

    private static void Advance(StoredMembershipTable table, TableVersion proposed)
    {
        table.Version = proposed.Version;
        table.VersionEtag = NewEtag();
    }

    private static string NewEtag() => Guid.NewGuid().ToString("N");

    /// <summary>
    /// Locks, reads the current table (null if there is none), lets <paramref name="change"/> decide, and writes the
    /// table it returns (null = write nothing). A corrupt file throws before <paramref name="change"/> runs.
    /// </summary>
    private async Task<T> MutateAsync<T>(Func<StoredMembershipTable?, (StoredMembershipTable? Replacement, T Result)> change)
    {
        Directory.CreateDirectory(_directory);
        using var held = await MembershipFileLock.AcquireAsync(_lockPath, _lockTimeout).ConfigureAwait(false);
        var (replacement, result) = change(MembershipTableFile.Read(_tablePath));
        if (replacement is not null)
        {
            MembershipTableFile.Write(_tablePath, replacement);
        }

        return result;
    }
}
