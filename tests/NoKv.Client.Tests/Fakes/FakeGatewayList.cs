using Orleans.Messaging;

namespace NoKv.Client.Tests.Fakes;

/// <summary>A gateway list the test edits; answers with the gateways listed at the time of the call.</summary>
internal sealed class FakeGatewayList : IGatewayListProvider
{
    private readonly List<Uri> _gateways = new();

    public TimeSpan MaxStaleness => TimeSpan.FromSeconds(1);

    public bool IsUpdatable => true;

    public void Set(params int[] ports)
    {
        lock (_gateways)
        {
            _gateways.Clear();
            _gateways.AddRange(ports.Select(p => new Uri($"gwy.tcp://127.0.0.1:{p}/0")));
        }
    }

    public Task InitializeGatewayListProvider() => Task.CompletedTask;

    public Task<IList<Uri>> GetGateways()
    {
        lock (_gateways)
        {
            return Task.FromResult<IList<Uri>>(_gateways.ToList());
        }
    }
}
