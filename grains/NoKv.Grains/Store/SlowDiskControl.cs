using System.Globalization;
using NoKv.Storage.Vfs;

namespace NoKv.Grains.Store;

/// <summary>
/// The debug switch behind <see cref="NoKvStoreOptions.SlowDiskControlFile"/>: the store's engine runs on a
/// <see cref="FaultInjectingFileSystem"/> whose <see cref="DelayingFaultInjector"/> this class drives from a control
/// file. The file holds a whole number of milliseconds: every file and directory sync of the engine waits that long
/// first. No file, an empty file or 0 = the disk is normal. Read every <see cref="PollInterval"/> by a stat and, when
/// the file changed, one small read: cheap enough to leave on, and independent of the network (the chaos harness
/// puts silos in network namespaces). For tests and chaos runs only: the silo refuses it in a configuration with
/// authentication on and logs a warning at every start otherwise.
/// </summary>
public sealed class SlowDiskControl
{
    /// <summary>How often the control file is looked at; a fault's start and end are seen this late at most.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>Largest delay accepted; more is taken as this (a minute per sync is already a dead disk).</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(60);

    private readonly string _path;
    private DateTime _lastWrite = DateTime.MinValue;
    private long _lastLength = -1;

    public SlowDiskControl(string controlFile, IFileSystem inner)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(controlFile);
        _path = Path.GetFullPath(controlFile);
        Injector = new DelayingFaultInjector();
        FileSystem = new FaultInjectingFileSystem(inner, Injector);
    }

    public string ControlFile => _path;

    public DelayingFaultInjector Injector { get; }

    /// <summary>The file system to open the engine on.</summary>
    public IFileSystem FileSystem { get; }

    public TimeSpan Delay => Injector.Delay;

    /// <summary>
    /// Reads the control file and applies its delay. Returns the new delay if it changed, else null. An unreadable or
    /// malformed file keeps the current delay and returns the problem in <paramref name="problem"/> (reported once per
    /// change of the file).
    /// </summary>
    public TimeSpan? Poll(out string? problem)
    {
        problem = null;
        var info = new FileInfo(_path);
        if (!info.Exists)
        {
            _lastWrite = DateTime.MinValue;
            _lastLength = -1;
            return Apply(TimeSpan.Zero);
        }

        if (info.LastWriteTimeUtc == _lastWrite && info.Length == _lastLength)
        {
            return null;
        }

        // Remembered before the read, so a file that cannot be read or parsed is reported once, not at every poll.
        _lastWrite = info.LastWriteTimeUtc;
        _lastLength = info.Length;
        string text;
        try
        {
            text = File.ReadAllText(_path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }

        if (text.Length == 0)
        {
            return Apply(TimeSpan.Zero);
        }

        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
        {
            problem = $"'{(text.Length > 40 ? text[..40] : text)}' is not a whole number of milliseconds";
            return null;
        }

        return Apply(TimeSpan.FromMilliseconds(Math.Min(ms, (long)MaxDelay.TotalMilliseconds)));
    }

    /// <summary>Polls until <paramref name="stop"/>, reporting each change and problem.</summary>
    public async Task RunAsync(Action<TimeSpan> changed, Action<string> failed, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(PollInterval);
        do
        {
            if (Poll(out string? problem) is { } delay)
            {
                changed(delay);
            }

            if (problem is not null)
            {
                failed(problem);
            }
        }
        while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
    }

    private TimeSpan? Apply(TimeSpan delay)
    {
        if (delay == Injector.Delay)
        {
            return null;
        }

        Injector.Delay = delay;
        return delay;
    }
}
