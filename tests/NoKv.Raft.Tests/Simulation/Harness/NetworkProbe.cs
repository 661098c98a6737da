using NoKv.Raft.Tests.Testing;

namespace NoKv.Raft.Tests.Simulation.Harness;

/// <summary>A five-node <see cref="SimNetwork{TMessage}"/> of strings that records what it delivers.</summary>
internal sealed class NetworkProbe
{
    public NetworkProbe(LinkFaults faults, ulong seed = 1)
    {
        Scheduler = new EventScheduler();
        Network = new SimNetwork<string>(Scheduler, new SimRandom(seed), new TraceRecorder(Scheduler), (to, m) => Received.Add((to, m)), id => !Down.Contains(id), m => m);
        Network.DefaultFaults = faults;
        for (ulong id = 1; id <= 5; id++)
        {
            Network.AddNode(id);
        }
    }

    public EventScheduler Scheduler { get; }

    public SimNetwork<string> Network { get; }

    public List<(ulong To, string Message)> Received { get; } = [];

    public HashSet<ulong> Down { get; } = [];

    public void Drain()
    {
        while (Scheduler.RunNext(long.MaxValue))
        {
        }
    }
}
