using System.Diagnostics.Metrics;
using NoKv.Storage.Vfs;
using Xunit;

namespace NoKv.Storage.Tests.Db;

public sealed class MetricsTests
{
    [Fact]
    public void Meter_reports_bytes_and_levels_tagged_with_the_database_name()
    {
        var fs = new MemFileSystem();
        string name = "metrics-" + Guid.NewGuid().ToString("N");
        using Database db = Database.Open("/m", new StorageOptions { FileSystem = fs, MetricsName = name });
        for (int i = 0; i < 100; i++)
        {
            db.Put(BitConverter.GetBytes(i), new byte[100]);
        }

        db.Flush();
        var seen = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "NoKv.Storage")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var t in tags)
            {
                if (t.Key == "db" && (string?)t.Value == name)
                {
                    seen[instrument.Name] = seen.GetValueOrDefault(instrument.Name) + value;
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
        listener.RecordObservableInstruments();

        StorageStatistics stats = db.GetStatistics();
        Assert.Equal(stats.UserBytesWritten, seen["nokv.storage.user_bytes_written"]);
        Assert.True(seen["nokv.storage.disk_bytes_written"] >= stats.FlushBytesWritten);
        Assert.True(seen["nokv.storage.write_amplification"] > 0);
        Assert.Equal(1, seen["nokv.storage.level_files"]);
        Assert.True(seen["nokv.storage.level_bytes"] > 0);
        Assert.True(seen.ContainsKey("nokv.storage.stall_time"));
        Assert.True(seen.ContainsKey("nokv.storage.block_cache_hit_rate"));
        Assert.Equal(0, seen["nokv.storage.wal_recovery_dropped_bytes"]);
        Assert.Equal(100 * (4 + 100), stats.UserBytesWritten);
        Assert.Equal(1, stats.FlushCount);
    }
}
