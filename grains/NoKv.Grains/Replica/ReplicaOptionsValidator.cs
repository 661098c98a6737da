using Microsoft.Extensions.Options;
using NoKv.Replica;

namespace NoKv.Grains.Replica;

/// <summary>Rejects replica timing that Raft cannot work with, naming the setting.</summary>
public sealed class ReplicaOptionsValidator : IValidateOptions<ReplicaOptions>
{
    public ValidateOptionsResult Validate(string? name, ReplicaOptions options)
    {
        var failures = new List<string>();
        if (options.TickInterval < TimeSpan.FromMilliseconds(5))
        {
            failures.Add("NoKV replicas: TickInterval must be at least 5 ms.");
        }

        if (options.HeartbeatTicks < 1 || options.ElectionTicks <= options.HeartbeatTicks)
        {
            failures.Add($"NoKV replicas: need 1 <= HeartbeatTicks < ElectionTicks, have {options.HeartbeatTicks} and {options.ElectionTicks}.");
        }

        if (options.SnapshotEntries < 16)
        {
            failures.Add($"NoKV replicas: SnapshotEntries must be at least 16, was {options.SnapshotEntries}.");
        }

        if (options.MaxKeyBytes < 1 || options.MaxValueBytes < 0)
        {
            failures.Add("NoKV replicas: MaxKeyBytes must be positive and MaxValueBytes not negative.");
        }

        if (options.SessionTtl < TimeSpan.FromMinutes(1))
        {
            failures.Add("NoKV replicas: SessionTtl must be at least one minute (it must outlive every client retry).");
        }

        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            failures.Add("NoKV replicas: RequestTimeout must be positive.");
        }

        if (options.HibernateAfterTicks < 1)
        {
            failures.Add($"NoKV replicas: HibernateAfterTicks must be at least 1, was {options.HibernateAfterTicks}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
