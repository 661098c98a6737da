namespace NoKv.Silo.Startup;

/// <summary>
/// Runs socket completions on the runtime's socket event thread instead of handing each one to the thread pool.
/// </summary>
/// <remarks>
/// .NET on Linux reads this setting only from the environment (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c>),
/// once, when the first asynchronous socket operation starts, so the silo sets it for itself before anything opens a
/// socket; an operator's own value (either way) is kept. What runs inline is Orleans' receive loop: a receive into its
/// pipe and the flush that schedules the message reader on the pool, all non-blocking. Each readable socket then costs
/// one thread-pool hand-off instead of two. Other socket users in the process (the Redis and PostgreSQL clustering
/// clients) also continue on the event thread after a read until their next await; their calls are rare and short.
/// Measured figures are in docs/cluster-cpu.md.
/// </remarks>
public static class SocketCompletions
{
    public const string Variable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Call first thing in Main, before any socket exists.</summary>
    public static void PreferInline()
    {
        if (Environment.GetEnvironmentVariable(Variable) is null)
        {
            Environment.SetEnvironmentVariable(Variable, "1");
        }
    }
}
