using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime;

namespace NoKv.Silo.Membership;

/// <summary>
/// Client side of the file membership table: the gateways are the Active silos in the table, re-read every
/// <see cref="FileMembershipOptions.GatewayRefreshPeriod"/>. Read-only, so it never takes the table's lock.
/// </summary>
public sealed class FileGatewayListProvider : IGatewayListProvider
{
    private readonly string _tablePath;

    public FileGatewayListProvider(IOptions<FileMembershipOptions> options, IOptions<ClusterOptions> cluster)
    {
        _tablePath = FileMembershipOptions.TablePath(Path.GetFullPath(options.Value.Directory), cluster.Value.ClusterId);
        MaxStaleness = options.Value.GatewayRefreshPeriod;
    }

    public TimeSpan MaxStaleness { get; }

    public bool IsUpdatable => true;

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public Task<IList<Uri>> GetGateways() => Task.Run<IList<Uri>>(() =>
    {
        var gateways = new List<Uri>();
        var table = MembershipTableFile.Read(_tablePath);
        if (table is null)
        {
            return gateways;
        }

        foreach (var row in table.Rows)
        {
            if (row.Status == SiloStatus.Active && row.ProxyPort > 0)
            {
                var silo = SiloAddress.FromParsableString(row.SiloAddress);
                gateways.Add(SiloAddress.New(silo.Endpoint.Address, row.ProxyPort, silo.Generation).ToGatewayUri());
            }
        }

        return gateways;
    });
}
