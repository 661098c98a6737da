using Microsoft.Extensions.Logging;

namespace NoKv.Silo.Logging;

/// <summary>One category's logger under <see cref="CondensingLoggerProvider"/>.</summary>
public sealed class CondensingLogger : ILogger
{
    private readonly ILogger _inner;
    private readonly string _category;
    private readonly RepeatSuppressor _repeats;
    private readonly bool _perMessage;

    public CondensingLogger(ILogger inner, string category, RepeatSuppressor repeats)
    {
        _inner = inner;
        _category = category;
        _repeats = repeats;
        _perMessage = CondensingLoggerProvider.PerMessageCategories.Contains(category);
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => _inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => _inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        // Critical stays whole (the process is going down, never routine), and so does anything unrecognised.
        if (logLevel is < LogLevel.Information or > LogLevel.Error || !IsExpected(logLevel, state, exception, formatter))
        {
            _inner.Log(logLevel, eventId, state, exception, formatter);
            return;
        }

        if (!_repeats.FirstInWindow(_category, eventId.Id, WriteSummary))
        {
            return;
        }

        var level = logLevel > LogLevel.Warning ? LogLevel.Warning : logLevel;
        if (!_inner.IsEnabled(level))
        {
            return;
        }

        string message = ExpectedFailures.WithoutStackTrace(formatter(state, exception));
        string line = exception is null
            ? $"{message} (repeats not logged until cluster membership changes)"
            : $"{message} ({exception.GetType().Name}: {ExpectedFailures.WithoutStackTrace(exception.Message)}; repeats not logged until cluster membership changes)";
        _inner.Log(level, eventId, line, null, static (text, _) => text);
    }

    private void WriteSummary(string summary) =>
        _inner.Log(LogLevel.Information, default, $"Expected failures not logged in the last window: {summary}", null, static (text, _) => text);

    private bool IsExpected<TState>(LogLevel level, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (exception is not null)
        {
            return ExpectedFailures.IsExpected(exception);
        }

        // Without an exception object only warnings and errors are looked at: per-message categories always, others
        // when their text carries a peer-unreachable exception (formatting them twice is fine, they are rare).
        return level >= LogLevel.Warning && (_perMessage || ExpectedFailures.IsMentioned(formatter(state, null)));
    }
}
