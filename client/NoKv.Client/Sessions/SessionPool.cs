using System.Collections.Concurrent;

namespace NoKv.Client.Sessions;

/// <summary>
/// Hands each in-flight write its own session. The pool grows to the peak write concurrency and reuses
/// sessions after that, which bounds the dedupe state the cluster keeps per client. Thread-safe.
/// </summary>
internal sealed class SessionPool
{
    private readonly ConcurrentBag<WriteSession> _idle = new();

    public WriteSession Rent() => _idle.TryTake(out var session) ? session : new WriteSession(Guid.NewGuid());

    /// <summary>Returns a session whose write has finished (applied, failed finally, or timed out).</summary>
    public void Return(WriteSession session) => _idle.Add(session);
}
