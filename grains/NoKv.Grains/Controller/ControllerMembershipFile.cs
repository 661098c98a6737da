using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Sharding;
using NoKv.Grains.Layout;
using NoKv.Grains.Store;
using NoKv.Replica.Controller;

namespace NoKv.Grains.Controller;

/// <summary>
/// The silo's one <see cref="ControllerMembership"/> (shared by every controller group client of the silo: the
/// controller grain, the shard map and timestamp front-ends), persisted to <c>controller-members</c> in the store's
/// data directory whenever a newer membership is adopted. A silo restarted after the group moved away from its
/// bootstrap stores therefore starts from the last list it knew, not from the layout; a silo that knows nothing
/// useful (a new data directory, or every store it knew gone) finds the group by asking the live stores
/// (<see cref="ControllerGroupClient.DiscoverAsync"/>).
/// <para>Format (text, one item a line): <c>nokv-controller-members 1</c>, <c>conf-version N</c>,
/// <c>stores A B C</c>. Written to a temporary file and renamed over the old one, so a crash leaves either list; a
/// file this build cannot read is ignored with a warning (the layout and discovery still find the group).</para>
/// </summary>
public sealed partial class ControllerMembershipFile
{
    private const string Header = "nokv-controller-members 1";
    private readonly string _path;
    private readonly ILogger<ControllerMembershipFile> _logger;
    private readonly object _writeGate = new();

    public ControllerMembershipFile(ClusterLayout layout, IOptions<NoKvStoreOptions> storeOptions, ILogger<ControllerMembershipFile> logger)
    {
        ArgumentNullException.ThrowIfNull(layout);
        _path = Path.Combine(Path.GetFullPath(storeOptions.Value.DataDirectory), "controller-members");
        _logger = logger;
        var bootstrap = layout.ControllerBootstrap;
        Membership = Read() is { } known && known.ConfVersion > bootstrap.ConfVersion
            ? new ControllerMembership(known.ConfVersion, known.Stores)
            : new ControllerMembership(bootstrap.ConfVersion, bootstrap.Replicas);
        Membership.Changed += Write;
    }

    /// <summary>The silo's shared membership of the controller group.</summary>
    public ControllerMembership Membership { get; }

    private (long ConfVersion, StoreId[] Stores)? Read()
    {
        try
        {
            if (!File.Exists(_path))
            {
                return null;
            }

            var lines = File.ReadAllLines(_path);
            if (lines.Length < 3 || lines[0] != Header || !lines[1].StartsWith("conf-version ", StringComparison.Ordinal) || !lines[2].StartsWith("stores ", StringComparison.Ordinal))
            {
                throw new InvalidDataException("not a version 1 membership file");
            }

            long confVersion = long.Parse(lines[1]["conf-version ".Length..], NumberStyles.None, CultureInfo.InvariantCulture);
            var stores = lines[2]["stores ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => new StoreId(int.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture))).ToArray();
            if (stores.Length == 0 || stores.Any(s => !s.IsValid))
            {
                throw new InvalidDataException("no valid store in the membership file");
            }

            LogLoaded(confVersion, string.Join(' ', stores));
            return (confVersion, stores);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or OverflowException)
        {
            LogUnreadable(_path, e.Message);
            return null;
        }
    }

    private void Write(long confVersion, StoreId[] stores)
    {
        string text = string.Create(CultureInfo.InvariantCulture, $"{Header}\nconf-version {confVersion}\nstores {string.Join(' ', stores)}\n");
        try
        {
            lock (_writeGate)
            {
                // Adopted from another thread meanwhile: never write an older list over a newer one.
                if (Membership.ConfVersion != confVersion)
                {
                    return;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                string temporary = _path + ".tmp";
                File.WriteAllText(temporary, text);
                File.Move(temporary, _path, overwrite: true);
            }

            LogAdopted(confVersion, string.Join(' ', stores));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogWriteFailed(_path, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller group members from the last run: conf version {ConfVersion}, stores {Stores}")]
    private partial void LogLoaded(long confVersion, string stores);

    [LoggerMessage(Level = LogLevel.Information, Message = "Controller group members now: conf version {ConfVersion}, stores {Stores}")]
    private partial void LogAdopted(long confVersion, string stores);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Controller group members file {Path} is unreadable ({Error}); starting from the layout")]
    private partial void LogUnreadable(string path, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not save the controller group's members to {Path}: {Error}")]
    private partial void LogWriteFailed(string path, string error);
}
