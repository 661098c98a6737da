namespace NoKv.Storage;

public sealed partial class Database
{
    private void CompactionLoop()
    {
        while (true)
        {
            lock (_mutex)
            {
                while (!_closing && !_compactionRequested)
                {
                    Monitor.Wait(_mutex);
                }

                if (_closing)
                {
                    return;
                }

                _compactionRequested = false;
            }

            DeleteObsoleteFiles(sweepDirectory: false);
        }
    }

    private void MaybeScheduleCompaction()
    {
        lock (_mutex)
        {
            _compactionRequested = true;
            Monitor.PulseAll(_mutex);
        }
    }

    public void CompactRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end) => throw new NotImplementedException();

    public void ExportRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream destination, Snapshot? snapshot = null) => throw new NotImplementedException();

    public long IngestRange(ReadOnlySpan<byte> start, ReadOnlySpan<byte> end, Stream source) => throw new NotImplementedException();
}
