using System.Security.Cryptography;
using NoKv.Storage;

namespace NoKv.Cli.Tests.Support;

/// <summary>A store data directory (STORE + engine/) under the temp directory, deleted on dispose.</summary>
internal sealed class TempStore : IDisposable
{
    public TempStore(int storeId = 7)
    {
        Directory.CreateDirectory(EnginePath);
        File.WriteAllText(Path.Combine(Root, "STORE"), $"{storeId}\n");
    }

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "nokv-cli-" + Guid.NewGuid().ToString("N")[..12]);

    public string EnginePath => Path.Combine(Root, "engine");

    public Database Open() => Database.Open(EnginePath, new StorageOptions { MemtableSizeBytes = 64 << 10, BlockSizeBytes = 1024 });

    /// <summary>Name and SHA-256 of every file, to prove a command wrote nothing.</summary>
    public Dictionary<string, string> Fingerprint()
    {
        var result = new Dictionary<string, string>();
        foreach (string file in Directory.GetFiles(Root, "*", SearchOption.AllDirectories))
        {
            result[Path.GetRelativePath(Root, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        }

        return result;
    }

    public string[] Files(string pattern) => Directory.GetFiles(EnginePath, pattern).Order(StringComparer.Ordinal).ToArray();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
