using System.Globalization;

namespace NoKv.Chaos.Cluster;

/// <summary>
/// One network namespace per silo, each joined to a bridge in the root namespace by a veth pair, so that links
/// between silos can be cut while the harness (in the root namespace, on the bridge) still reaches every silo.
/// Silo i gets 10.A.B.i (A.B from this process id, so concurrent harnesses do not collide); the bridge is .254.
/// A partition is a set of peer addresses dropped both ways by an nftables set in the namespace
/// (<c>ip daddr @blocked drop</c> on output, <c>ip saddr @blocked drop</c> on input): packets vanish silently, as
/// on a real network, rather than failing fast as a blackhole route would (connect() gets EINVAL at once there).
/// Needs root, iproute2 and nft (tests/NoKv.Chaos/run.sh installs nftables when missing).
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private const string Table = "nokvchaos";
    private readonly string _tag;
    private readonly int _silos;
    private readonly string _prefix;
    private readonly HashSet<(int, int)> _cut = new();

    private NetworkLab(string tag, int silos, string prefix)
    {
        _tag = tag;
        _silos = silos;
        _prefix = prefix;
    }

    public string BridgeAddress => _prefix + "254";

    public string Address(int store) => _prefix + store.ToString(CultureInfo.InvariantCulture);

    public string Namespace(int store) => $"nkc{_tag}n{store}";

    private string Bridge => $"nkc{_tag}b";

    private string Veth(int store) => $"nkc{_tag}v{store}";

    /// <summary>Whether namespaces, veth pairs and nft work here (root, iproute2, nftables).</summary>
    public static async Task<string?> WhyUnavailableAsync()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "not Linux";
        }

        if (Environment.UserName != "root")
        {
            return "not root (network namespaces need CAP_NET_ADMIN)";
        }

        if (!await Shell.SucceedsAsync("ip", "netns", "list"))
        {
            return "iproute2 `ip netns` does not work";
        }

        if (!await Shell.SucceedsAsync("nft", "--version"))
        {
            return "nft is not installed (apt-get install nftables; run.sh does it)";
        }

        return null;
    }

    public static async Task<NetworkLab> CreateAsync(int silos)
    {
        int pid = Environment.ProcessId;
        var lab = new NetworkLab(
            (pid % 1_000_000).ToString(CultureInfo.InvariantCulture),
            silos,
            $"10.{200 + (pid % 50)}.{(pid / 50) % 250}.");
        try
        {
            await Shell.RunAsync("ip", ["link", "add", lab.Bridge, "type", "bridge"]);
            await Shell.RunAsync("ip", ["addr", "add", lab.BridgeAddress + "/24", "dev", lab.Bridge]);
            await Shell.RunAsync("ip", ["link", "set", lab.Bridge, "up"]);
            for (int store = 1; store <= silos; store++)
            {
                string ns = lab.Namespace(store);
                await Shell.RunAsync("ip", ["netns", "add", ns]);
                await Shell.RunAsync("ip", ["link", "add", lab.Veth(store), "type", "veth", "peer", "name", "eth0", "netns", ns]);
                await Shell.RunAsync("ip", ["link", "set", lab.Veth(store), "master", lab.Bridge, "up"]);
                await Shell.RunAsync("ip", ["netns", "exec", ns, "ip", "addr", "add", lab.Address(store) + "/24", "dev", "eth0"]);
                await Shell.RunAsync("ip", ["netns", "exec", ns, "ip", "link", "set", "eth0", "up"]);
                await Shell.RunAsync("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"]);
                await Shell.RunAsync("ip", ["netns", "exec", ns, "nft", "-f", "-"], input:
                    $$"""
                    table inet {{Table}} {
                        set blocked { type ipv4_addr; }
                        chain input { type filter hook input priority 0; policy accept; ip saddr @blocked drop; }
                        chain output { type filter hook output priority 0; policy accept; ip daddr @blocked drop; }
                    }
                    """);
            }

            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Cuts every link between <paramref name="side"/> and the other silos (the harness still reaches all).</summary>
    public async Task PartitionAsync(IReadOnlyCollection<int> side)
    {
        foreach (int a in side)
        {
            for (int b = 1; b <= _silos; b++)
            {
                if (!side.Contains(b) && _cut.Add((a, b)) && _cut.Add((b, a)))
                {
                    await BlockAsync(a, b);
                    await BlockAsync(b, a);
                }
            }
        }
    }

    /// <summary>Restores every link.</summary>
    public async Task HealAsync()
    {
        for (int store = 1; store <= _silos; store++)
        {
            await Shell.RunAsync("ip", ["netns", "exec", Namespace(store), "nft", "flush", "set", "inet", Table, "blocked"]);
        }

        _cut.Clear();
    }

    private Task BlockAsync(int at, int peer) =>
        Shell.RunAsync("ip", ["netns", "exec", Namespace(at), "nft", "add", "element", "inet", Table, "blocked", $"{{ {Address(peer)} }}"]);

    public async ValueTask DisposeAsync()
    {
        for (int store = 1; store <= _silos; store++)
        {
            await Shell.RunAsync("ip", ["netns", "del", Namespace(store)], check: false);
        }

        await Shell.RunAsync("ip", ["link", "del", Bridge], check: false);
    }
}
