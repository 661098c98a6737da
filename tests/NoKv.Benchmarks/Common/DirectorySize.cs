namespace NoKv.Benchmarks.Common;

/// <summary>On-disk size of a directory tree (sum of file lengths, so sparse or preallocated space is not counted).</summary>
public static class DirectorySize
{
    public static long Of(string path)
    {
        if (!Directory.Exists(path))
        {
            return 0;
        }
        long total = 0;
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            try
            {
                total += new FileInfo(file).Length;
            }
            catch (FileNotFoundException)
            {
                // An engine deleted an obsolete file while we were walking: it no longer occupies space.
            }
        }
        return total;
    }
}
