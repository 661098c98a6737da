using Microsoft.Extensions.Logging;

namespace NoKv.Replica.Tests.Simulation;

/// <summary>
/// The replica cores' own log lines, stamped with virtual time into the simulation's trace (NOKV_REPLICA_SIM_TRACE=1):
/// role changes, hibernation and wake-ups are what a liveness failure is diagnosed from.
/// </summary>
internal sealed class SimTraceLogger : ILogger
{
    private readonly ReplicaSimulation _sim;

    public SimTraceLogger(ReplicaSimulation sim) => _sim = sim;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _sim.Trace(formatter(state, exception));
}
