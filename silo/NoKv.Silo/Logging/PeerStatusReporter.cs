using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace NoKv.Silo.Logging;

/// <summary>
/// Writes one warning when cluster membership declares a peer silo dead and one when a silo of the same name is
/// active again, and closes the <see cref="RepeatSuppressor"/> window at every membership change (with one line
/// counting what was not written). Together with <see cref="CondensingLoggerProvider"/> a store that is down
/// costs its peers a handful of lines, not a stack trace per message.
/// </summary>
public sealed partial class PeerStatusReporter : BackgroundService
{
    private readonly IClusterMembershipService _membership;
    private readonly ILocalSiloDetails _local;
    private readonly RepeatSuppressor _repeats;
    private readonly ILogger<PeerStatusReporter> _logger;

    public PeerStatusReporter(IClusterMembershipService membership, ILocalSiloDetails local, RepeatSuppressor repeats, ILogger<PeerStatusReporter> logger)
    {
        _membership = membership;
        _local = local;
        _repeats = repeats;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var down = new HashSet<string>(StringComparer.Ordinal);
        ClusterMembershipSnapshot? previous = null;
        try
        {
            await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(stoppingToken))
            {
                if (previous is not null && snapshot.Version > previous.Version)
                {
                    Report(snapshot.CreateUpdate(previous), down);
                }

                previous = snapshot;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private void Report(ClusterMembershipUpdate update, HashSet<string> down)
    {
        bool changed = false;
        foreach (var member in update.Changes)
        {
            if (member.SiloAddress.Equals(_local.SiloAddress))
            {
                continue;
            }

            switch (member.Status)
            {
                case SiloStatus.Dead:
                    // A restarted silo's new incarnation also marks its old one dead; that is not an outage.
                    if (!HasActiveIncarnation(update.Snapshot, member) && down.Add(member.Name))
                    {
                        LogPeerDown(member.Name, member.SiloAddress);
                    }

                    changed = true;
                    break;
                case SiloStatus.Active:
                    if (down.Remove(member.Name))
                    {
                        LogPeerBack(member.Name, member.SiloAddress);
                    }

                    changed = true;
                    break;
            }
        }

        if (changed && _repeats.EndWindow() is { } summary)
        {
            LogSuppressed(summary);
        }
    }

    private static bool HasActiveIncarnation(ClusterMembershipSnapshot snapshot, ClusterMember dead)
    {
        foreach (var (address, member) in snapshot.Members)
        {
            if (member.Status == SiloStatus.Active && member.Name == dead.Name && !address.Equals(dead.SiloAddress))
            {
                return true;
            }
        }

        return false;
    }
}
