using System.Collections.Concurrent;
using System.Text;

namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// Keys whose next write reply is lost: <see cref="RaftFaultFilter"/> lets the write execute and apply, then
/// fails the call as if the response never arrived, so the client retries the same (session, sequence).
/// </summary>
public sealed class LostReplies
{
    private readonly ConcurrentDictionary<string, int> _remaining = new();

    public int Lost => _lost;

    private int _lost;

    public void LoseNextReplies(string key, int count) => _remaining[key] = count;

    public bool ShouldLose(byte[] key)
    {
        string k = Encoding.UTF8.GetString(key);
        while (_remaining.TryGetValue(k, out int left) && left > 0)
        {
            if (_remaining.TryUpdate(k, left - 1, left))
            {
                Interlocked.Increment(ref _lost);
                return true;
            }
        }

        return false;
    }
}
