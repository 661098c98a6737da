namespace NoKv.Silo.Configuration;

/// <summary>How the silo writes its console log. Either way every line carries a UTC timestamp and a level.</summary>
public enum LogFormat
{
    /// <summary>One line per entry: "2026-12-06T00:00:00.000Z info: Category[id] message".</summary>
    Simple,

    /// <summary>One JSON object per line (Timestamp, EventId, LogLevel, Category, Message, State), for log shippers.</summary>
    Json,
}
