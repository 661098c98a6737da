using System.Diagnostics.Tracing;
using System.Globalization;

namespace NoKv.Benchmarks.Common;

/// <summary>
/// Diagnostic (NOKV_MEM_TRACE=1): what the process puts on the large object heap, by type and object size, from the
/// runtime's allocation sampling events (one per ~100 KB allocated per heap kind, so each large object of at least
/// that size is seen; smaller ones are seen in proportion). The large object heap is reclaimed only by full
/// collections, so garbage there shows as anonymous memory for as long as none runs.
/// </summary>
public sealed class LargeAllocationListener : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEventId = 10;

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (long Count, long Bytes)> _byKind = new(StringComparer.Ordinal);

    /// <summary>One line per (type, size band), largest total first.</summary>
    public string Summary()
    {
        lock (_lock)
        {
            var rows = new List<KeyValuePair<string, (long Count, long Bytes)>>(_byKind);
            rows.Sort((a, b) => b.Value.Bytes.CompareTo(a.Value.Bytes));
            var text = new System.Text.StringBuilder("[mem-trace] large object allocations seen (type, object size band: count, MiB):");
            foreach (KeyValuePair<string, (long Count, long Bytes)> row in rows)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n[mem-trace]   {row.Key}: {row.Value.Count}, {row.Value.Bytes >> 20}");
            }

            return text.ToString();
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
        else if (eventSource.Name == "System.Buffers.ArrayPoolEventSource")
        {
            // Which of the large arrays the shared pools allocated (their first use of a size, or none free).
            EnableEvents(eventSource, EventLevel.Informational);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        if (eventData.EventSource.Name == "System.Buffers.ArrayPoolEventSource")
        {
            CountPoolEvent(eventData);
            return;
        }

        if (eventData.EventId != AllocationTickEventId)
        {
            return;
        }

        uint kind = 0;
        string type = "?";
        ulong size = 0;
        for (int i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "AllocationKind":
                    kind = Convert.ToUInt32(eventData.Payload[i], CultureInfo.InvariantCulture);
                    break;
                case "TypeName":
                    type = eventData.Payload[i] as string ?? "?";
                    break;
                case "ObjectSize":
                    size = Convert.ToUInt64(eventData.Payload[i], CultureInfo.InvariantCulture);
                    break;
            }
        }

        if (kind != 1)
        {
            return;
        }

        // Power-of-two bands: enough to tell a 1 MiB arena chunk from a 512 KiB index buffer.
        ulong band = 1;
        while (band < size)
        {
            band <<= 1;
        }

        Count(string.Create(CultureInfo.InvariantCulture, $"{type} <= {band >> 10} KiB"), (long)size);
    }

    private void CountPoolEvent(EventWrittenEventArgs eventData)
    {
        long size = 0;
        string reason = "";
        for (int i = 0; i < eventData.PayloadNames!.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "bufferSize":
                    size = Convert.ToInt64(eventData.Payload![i], CultureInfo.InvariantCulture);
                    break;
                case "reason":
                    reason = Convert.ToString(eventData.Payload![i], CultureInfo.InvariantCulture) ?? "";
                    break;
            }
        }

        if (size >= 85_000)
        {
            Count(string.Create(CultureInfo.InvariantCulture, $"array pool {eventData.EventName} {reason} {size >> 10} KiB"), size);
        }
    }

    private void Count(string key, long bytes)
    {
        lock (_lock)
        {
            _byKind.TryGetValue(key, out (long Count, long Bytes) seen);
            _byKind[key] = (seen.Count + 1, seen.Bytes + bytes);
        }
    }
}
