using Microsoft.Extensions.Logging;

namespace NoKv.Silo.Logging;

/// <summary>
/// Wraps the console provider so that expected failures (<see cref="ExpectedFailures"/>) are written as one
/// line without a stack trace, at most Warning, once per <see cref="RepeatSuppressor"/> window; everything
/// else passes through untouched. Orleans logs such failures per message or per connection attempt, which
/// while one store is down means thousands of stack traces a minute.
/// </summary>
public sealed class CondensingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    /// <summary>
    /// Categories whose warnings and errors repeat per message or per retry even without an exception object: messages
    /// still addressed to a restarted silo's old incarnation, and Orleans' placement retries (Polly), which put the
    /// failure's stack trace into the message text.
    /// </summary>
    internal static readonly HashSet<string> PerMessageCategories = new(StringComparer.Ordinal)
    {
        "Orleans.Runtime.Messaging.Connection",
        "Polly",
    };

    private readonly ILoggerProvider _inner;
    private readonly RepeatSuppressor _repeats;

    public CondensingLoggerProvider(ILoggerProvider inner, RepeatSuppressor repeats)
    {
        _inner = inner;
        _repeats = repeats;
    }

    public ILogger CreateLogger(string categoryName) => new CondensingLogger(_inner.CreateLogger(categoryName), categoryName, _repeats);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider)
    {
        if (_inner is ISupportExternalScope scoped)
        {
            scoped.SetScopeProvider(scopeProvider);
        }
    }

    public void Dispose() => _inner.Dispose();
}
