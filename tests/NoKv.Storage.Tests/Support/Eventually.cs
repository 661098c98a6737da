using Xunit;

namespace NoKv.Storage.Tests.Support;

/// <summary>Waits for a condition that background work makes true, failing with a message after a deadline.</summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(20);

    /// <summary>Polls <paramref name="condition"/> (every few milliseconds) until it holds; fails with <paramref name="message"/> if it does not within <paramref name="deadline"/>.</summary>
    public static void True(Func<bool> condition, Func<string> message, TimeSpan? deadline = null)
    {
        DateTime end = DateTime.UtcNow + (deadline ?? DefaultDeadline);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < end, message());
            Thread.Sleep(5);
        }
    }
}
