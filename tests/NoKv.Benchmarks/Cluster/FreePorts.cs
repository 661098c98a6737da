using System.Net;
using System.Net.Sockets;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// Picks TCP ports that are free right now, by letting the kernel choose (bind to port 0) and releasing
/// them. This keeps the benchmark's silos off the fixed ports of deploy/local-cluster.sh (11111+, 30000+),
/// the etcd script (23791-23803) and Orleans' defaults, so a cluster left running by a developer never
/// clashes with a benchmark run. There is a small window between release and the silo binding the port;
/// a silo that loses that race fails its start-up preflight with "port in use", which the launcher reports.
/// </summary>
public static class FreePorts
{
    public static int[] Take(int count)
    {
        var listeners = new TcpListener[count];
        try
        {
            var ports = new int[count];
            for (var i = 0; i < count; i++)
            {
                // All listeners stay open until every port is chosen, so the kernel never hands out one twice.
                listeners[i] = new TcpListener(IPAddress.Loopback, 0);
                listeners[i].Start();
                ports[i] = ((IPEndPoint)listeners[i].LocalEndpoint).Port;
            }
            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener?.Stop();
            }
        }
    }
}
