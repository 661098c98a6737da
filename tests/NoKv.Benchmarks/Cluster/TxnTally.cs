using System.Globalization;
using NoKv.Benchmarks.Common;

namespace NoKv.Benchmarks.Cluster;

/// <summary>
/// The figures of one system at one point of `cluster --txn`, summed over its slices: rate over the slices' total time,
/// percentiles over every committed operation of every slice, CPU per committed operation. Not thread-safe.
/// </summary>
public sealed class TxnTally
{
    private readonly LatencyHistogram _latencies = new();
    private readonly List<TxnSlice> _slices = [];
    private long _committed;
    private long _aborted;
    private TimeSpan _elapsed;
    private TimeSpan _serverCpu;
    private TimeSpan _clientCpu;
    private TimeSpan _idleCpu;

    /// <summary>Whether the system's server processes are known (their CPU is measured).</summary>
    public bool ServersKnown { get; init; } = true;

    public IReadOnlyList<TxnSlice> Slices => _slices;

    public long Committed => _committed;

    public double PerSecond => _elapsed > TimeSpan.Zero ? _committed / _elapsed.TotalSeconds : 0;

    public double P50 => _latencies.Quantile(0.5) / 1e6;

    public double P99 => _latencies.Quantile(0.99) / 1e6;

    public double AbortRate => _committed + _aborted == 0 ? 0 : (double)_aborted / (_committed + _aborted);

    /// <summary>The other system's server CPU while this one was measured, in percent of one core.</summary>
    public double IdlePercentOfCore => _elapsed > TimeSpan.Zero ? 100 * _idleCpu / _elapsed : 0;

    public void Add(TxnSlice slice)
    {
        _slices.Add(slice);
        _latencies.Add(slice.Latencies);
        _committed += slice.Committed;
        _aborted += slice.Aborted;
        _elapsed += slice.Elapsed;
        _serverCpu += slice.ServerCpu;
        _clientCpu += slice.ClientCpu;
        _idleCpu += slice.IdleCpu;
    }

    /// <summary>
    /// CPU per committed operation: on the shared 2-core machine a steadier cost than throughput, which moves with
    /// whatever else runs (<see cref="ProcessCpu"/>). Servers: the silos or the etcd members; client: this process.
    /// </summary>
    public string CpuLine()
    {
        double n = Math.Max(1, _committed);
        string servers = ServersKnown ? (_serverCpu.TotalMilliseconds / n).ToString("F3", CultureInfo.InvariantCulture) + " ms" : "n/a";
        return string.Create(CultureInfo.InvariantCulture, $"cpu per committed operation: servers {servers}, client {_clientCpu.TotalMilliseconds / n:F3} ms");
    }
}
