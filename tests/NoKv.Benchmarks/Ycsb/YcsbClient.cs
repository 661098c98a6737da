using System.Diagnostics;
using NoKv.Benchmarks.Common;
using NoKv.Benchmarks.Storage.Engines;

namespace NoKv.Benchmarks.Ycsb;

/// <summary>
/// One YCSB client thread: draws operations and records from its own seeded generators, runs them against the
/// engine, checks every value read, and times each operation into its own histograms. Not thread-safe; the
/// runner gives each thread its own client and shares only the operation budget and the insert counter.
/// </summary>
public sealed class YcsbClient : IDisposable
{
    private readonly IBenchEngine _engine;
    private readonly IBenchReader _reader;
    private readonly YcsbWorkload _workload;
    private readonly AcknowledgedCounter _inserts;
    private readonly ScrambledZipfianGenerator _zipfian;
    private readonly ZipfianGenerator? _latest;
    private readonly ulong _versionBase;
    private readonly LatencyHistogram[] _histograms;
    private readonly byte[] _key = new byte[YcsbKeys.MaxKeyBytes];
    private readonly byte[] _scanKey = new byte[YcsbKeys.MaxKeyBytes];
    private readonly byte[] _value = new byte[YcsbValues.Size];
    private SplitMix64 _random;
    private ulong _versions;

    /// <param name="records">Records present when the run started (the zipfian item count).</param>
    /// <param name="versionBase">High bits that make this client's value versions unique across threads and runs.</param>
    public YcsbClient(IBenchEngine engine, YcsbWorkload workload, long records, AcknowledgedCounter inserts, ulong seed, ulong versionBase)
    {
        _engine = engine;
        _reader = engine.CreateReader();
        _workload = workload;
        _inserts = inserts;
        _random = new SplitMix64(seed);
        _versionBase = versionBase;
        _zipfian = new ScrambledZipfianGenerator(Math.Max(1, records));
        if (workload.Distribution == YcsbDistribution.Latest)
        {
            // Computing zeta over the loaded records takes a moment: done here, before the clock starts.
            _latest = new ZipfianGenerator(Math.Max(1, inserts.Limit));
        }

        _histograms = new LatencyHistogram[Enum.GetValues<YcsbOperation>().Length];
        for (int i = 0; i < _histograms.Length; i++)
        {
            _histograms[i] = new LatencyHistogram();
        }
    }

    public IReadOnlyList<LatencyHistogram> Histograms => _histograms;

    /// <summary>Records read back and checked.</summary>
    public long Verified { get; private set; }

    /// <summary>
    /// Takes operations from <paramref name="budget"/> (a shared count down) until it is spent, the clock passes
    /// <paramref name="deadline"/> (a Stopwatch timestamp) or <paramref name="stop"/> is set.
    /// </summary>
    /// <exception cref="InvalidDataException">A read returned a missing, foreign or damaged value.</exception>
    public void Run(ref long budget, long deadline, ref int stop)
    {
        int sinceClockCheck = 0;
        while (Volatile.Read(ref stop) == 0 && Interlocked.Decrement(ref budget) >= 0)
        {
            if (++sinceClockCheck == 64)
            {
                sinceClockCheck = 0;
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    return;
                }
            }

            YcsbOperation operation = _workload.IsLoad ? YcsbOperation.Insert : _workload.Choose(Uniform());
            long start = Stopwatch.GetTimestamp();
            switch (operation)
            {
                case YcsbOperation.Read:
                    Read(ChooseRecord());
                    break;
                case YcsbOperation.Update:
                    Write(ChooseRecord());
                    break;
                case YcsbOperation.Insert:
                    long record = _inserts.Next();
                    Write(record);
                    _inserts.Acknowledge(record);
                    break;
                case YcsbOperation.Scan:
                    Scan(ChooseRecord(), 1 + _random.NextInt(YcsbWorkload.MaxScanLength));
                    break;
                case YcsbOperation.ReadModifyWrite:
                    long target = ChooseRecord();
                    Read(target);
                    Write(target);
                    break;
            }

            _histograms[(int)operation].Record((long)Stopwatch.GetElapsedTime(start).TotalNanoseconds);
        }
    }

    public void Dispose() => _reader.Dispose();

    private double Uniform() => (_random.Next() >> 11) * (1.0 / (1UL << 53));

    private long ChooseRecord()
    {
        if (_latest is not null)
        {
            long limit = _inserts.Limit;
            return limit - 1 - _latest.Next(ref _random, limit);
        }

        return _zipfian.Next(ref _random);
    }

    private void Read(long record)
    {
        int length = YcsbKeys.Write(record, _key);
        if (!_reader.TryGet(_key.AsSpan(0, length)))
        {
            throw new InvalidDataException($"record {record} ({KeyText(_key.AsSpan(0, length))}) is missing");
        }

        if (!YcsbValues.IsValid(record, _reader.Value))
        {
            throw new InvalidDataException($"record {record} ({KeyText(_key.AsSpan(0, length))}) read back a wrong value ({_reader.Value.Length} bytes, record field {YcsbValues.RecordOf(_reader.Value)})");
        }

        Verified++;
    }

    private void Write(long record)
    {
        int length = YcsbKeys.Write(record, _key);
        YcsbValues.Write(record, _versionBase + ++_versions, _value);
        _engine.Put(_key.AsSpan(0, length), _value, sync: false);
    }

    private void Scan(long startRecord, int count)
    {
        int length = YcsbKeys.Write(startRecord, _key);
        using IBenchIterator iterator = _engine.CreateIterator();
        iterator.Seek(_key.AsSpan(0, length));
        for (int i = 0; i < count && iterator.Valid; i++, iterator.Next())
        {
            long record = YcsbValues.RecordOf(iterator.Value);
            int keyLength = record >= 0 ? YcsbKeys.Write(record, _scanKey) : 0;
            if (record < 0 || !iterator.Key.SequenceEqual(_scanKey.AsSpan(0, keyLength)) || !YcsbValues.IsValid(record, iterator.Value))
            {
                throw new InvalidDataException($"a scan from record {startRecord} returned a wrong value under {KeyText(iterator.Key)}");
            }

            Verified++;
        }
    }

    private static string KeyText(ReadOnlySpan<byte> key) => System.Text.Encoding.ASCII.GetString(key);
}
