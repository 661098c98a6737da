using System.Runtime.CompilerServices;
using NoKv.Raft.Tests.Testing.DataDriven;
using NoKv.Raft.Tests.Testing.Interaction;
using Xunit;

namespace NoKv.Raft.Tests.Simulation;

/// <summary>
/// Data-driven scripts in Simulation/testdata: each command's output is compared with the golden text in
/// the file. REWRITE=1 rewrites the files with the actual output (review the diff before committing).
/// </summary>
public sealed class InteractionTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(TestDataDirectory(), "*.txt").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script(string file)
    {
        var env = new InteractionEnv();
        var failures = DataDrivenScript.Run(Path.Combine(TestDataDirectory(), file), env.Handle);
        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    // The scripts are read from (and rewritten in) the source tree, not the build output.
    private static string TestDataDirectory([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "testdata");
}
