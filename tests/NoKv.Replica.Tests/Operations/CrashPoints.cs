namespace NoKv.Replica.Tests.Operations;

/// <summary>
/// Numbered effects of fake replicas and controller rows, shared by every fake of one test world: the controller logic
/// "crashes" (its life is cancelled) before or after effect number <see cref="CrashAt"/>.
/// </summary>
internal sealed class CrashPoints
{
    /// <summary>The effect number at which to crash (0 = never), and whether before or after the effect happens.</summary>
    public int CrashAt { get; set; }

    public bool CrashBefore { get; set; }

    public int Effects { get; private set; }

    public string? LastCrash { get; private set; }

    /// <summary>The current controller's life: cancelled at a crash, so a runner cannot mistake it for a failed call.</summary>
    public CancellationTokenSource Life { get; private set; } = new();

    /// <summary>A new controller takes over after a crash.</summary>
    public void Restart()
    {
        Life = new CancellationTokenSource();
        CrashAt = 0;
    }

    public T Effect<T>(string what, Func<T> effect)
    {
        Effects++;
        if (Effects == CrashAt && CrashBefore)
        {
            Crash($"before {what}");
        }

        var result = effect();
        if (Effects == CrashAt)
        {
            Crash($"after {what}");
        }

        return result;
    }

    private void Crash(string where)
    {
        LastCrash = where;
        Life.Cancel();
        throw new OperationCanceledException(where, Life.Token);
    }
}
