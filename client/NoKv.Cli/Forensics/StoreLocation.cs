using System.Globalization;
using NoKv.Cli.Commands;

namespace NoKv.Cli.Forensics;

/// <summary>
/// Where a store's engine is: a silo's data directory (<c>STORE</c> and <c>engine/</c>, as LocalStore lays it out) or
/// the engine directory itself.
/// </summary>
internal sealed record StoreLocation(string Directory, string EnginePath, int? StoreId)
{
    /// <exception cref="CliException">The directory is neither (code not_a_store).</exception>
    public static StoreLocation Resolve(string directory)
    {
        string root = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(root))
        {
            throw new CliException($"'{root}' does not exist.", "not_a_store");
        }

        if (File.Exists(Path.Combine(root, "engine", "CURRENT")))
        {
            return new StoreLocation(root, Path.Combine(root, "engine"), ReadStoreId(root));
        }

        if (File.Exists(Path.Combine(root, "CURRENT")))
        {
            string? parent = Path.GetDirectoryName(root);
            return new StoreLocation(root, root, parent is null ? null : ReadStoreId(parent));
        }

        throw new CliException($"'{root}' is not a NoKV store: expected a data directory holding engine/CURRENT (as data/store-1) or an engine directory holding CURRENT.", "not_a_store");
    }

    private static int? ReadStoreId(string root)
    {
        string file = Path.Combine(root, "STORE");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;
    }
}
