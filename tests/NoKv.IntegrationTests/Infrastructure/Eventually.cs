using System.Diagnostics;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>Polls a condition until it holds or a deadline passes; the failure names what was awaited and the last value seen.</summary>
public static class Eventually
{
    /// <summary>
    /// One probe may take this long before it is abandoned and tried again: a grain call sent through a silo that was
    /// just killed is otherwise awaited for Orleans' response timeout (30 s), which can outlast the whole wait.
    /// </summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(10);

    public static async Task<T> WaitAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? lastError = null;
        T? last = default;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = await probe().WaitAsync(ProbeTimeout);
                if (condition(last))
                {
                    return last;
                }
            }
            catch (Exception e)
            {
                lastError = e;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:F0}s waiting for {what}; last value {last}, last error {lastError?.Message ?? "none"}.");
    }
}
