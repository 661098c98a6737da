namespace NoKv.Silo.Membership;

/// <summary>
/// The whole table of one cluster as stored in its file: the table version with its etag and every row.
/// Invariant: <see cref="Version"/> only grows while the file exists (each successful insert or update
/// stores the caller's newer version, see <see cref="FileMembershipTable"/>).
/// </summary>
public sealed class StoredMembershipTable
{
    /// <summary>The etag of a table that was never written; a missing file reads as an empty table with it.</summary>
    public const string InitialEtag = "0";

    public int Version { get; set; }

    public string VersionEtag { get; set; } = InitialEtag;

    public List<StoredMembershipRow> Rows { get; set; } = new();

    public StoredMembershipRow? Find(string siloAddress)
    {
        foreach (var row in Rows)
        {
            if (row.SiloAddress == siloAddress)
            {
                return row;
            }
        }

        return null;
    }
}
