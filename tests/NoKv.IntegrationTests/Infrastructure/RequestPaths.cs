namespace NoKv.IntegrationTests.Infrastructure;

/// <summary>
/// How client requests reached replica grains, counted by <see cref="RequestPathFilter"/> on every test silo:
/// <see cref="Direct"/> when the caller was the store service of the replica's own silo (the client's message
/// went straight to that silo), <see cref="Other"/> for anything else (a plain grain call from the client,
/// which Orleans may have forwarded through another silo). Thread-safe.
/// </summary>
public sealed class RequestPaths
{
    private long _direct;
    private long _other;
    private volatile string? _lastOther;

    public long Direct => Interlocked.Read(ref _direct);

    public long Other => Interlocked.Read(ref _other);

    /// <summary>The caller and method of the latest request counted in <see cref="Other"/>, for failure messages.</summary>
    public string? LastOther => _lastOther;

    public void Record(bool direct, string describe)
    {
        if (direct)
        {
            Interlocked.Increment(ref _direct);
        }
        else
        {
            _lastOther = describe;
            Interlocked.Increment(ref _other);
        }
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _direct, 0);
        Interlocked.Exchange(ref _other, 0);
        _lastOther = null;
    }

    public override string ToString() => $"direct {Direct}, other {Other} (last other: {LastOther ?? "none"})";
}
