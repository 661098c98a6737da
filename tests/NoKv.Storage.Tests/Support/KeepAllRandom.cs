namespace NoKv.Storage.Tests.Support;

/// <summary>
/// A "random" source that always picks the largest value, so <c>MemFileSystem.CrashClone(Random)</c>
/// keeps every unsynced byte (what a crash of the process, not of the machine, leaves behind).
/// </summary>
internal sealed class KeepAllRandom : Random
{
    public override int Next(int maxValue) => Math.Max(0, maxValue - 1);
}
