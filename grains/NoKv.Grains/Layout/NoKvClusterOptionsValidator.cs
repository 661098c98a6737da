using Microsoft.Extensions.Options;

namespace NoKv.Grains.Layout;

/// <summary>Rejects a layout that cannot be built, naming the setting.</summary>
public sealed class NoKvClusterOptionsValidator : IValidateOptions<NoKvClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, NoKvClusterOptions options)
    {
        var failures = new List<string>();
        if (options.ReplicationFactor < 1)
        {
            failures.Add($"NoKV cluster: ReplicationFactor must be at least 1, was {options.ReplicationFactor}.");
        }

        if (options.ReplicationFactor > 7)
        {
            failures.Add($"NoKV cluster: ReplicationFactor must be at most 7 (a larger Raft group only slows commits), was {options.ReplicationFactor}.");
        }

        if (options.Stores is null || options.Stores.Length < options.ReplicationFactor)
        {
            failures.Add($"NoKV cluster: Stores must list at least ReplicationFactor ({options.ReplicationFactor}) store ids.");
        }
        else if (options.Stores.Distinct().Count() != options.Stores.Length || options.Stores.Any(s => s <= 0))
        {
            failures.Add("NoKV cluster: Stores must be distinct positive integers.");
        }

        if (options.InitialShards < 1 || options.InitialShards > 256 && options.SplitKeys.Length == 0)
        {
            failures.Add($"NoKV cluster: InitialShards must be between 1 and 256 without explicit SplitKeys, was {options.InitialShards}.");
        }

        if (options.SplitKeys.Length != 0)
        {
            if (options.SplitKeys.Length != options.InitialShards - 1)
            {
                failures.Add($"NoKV cluster: SplitKeys must hold InitialShards - 1 ({options.InitialShards - 1}) keys, has {options.SplitKeys.Length}.");
            }

            for (int i = 0; i < options.SplitKeys.Length; i++)
            {
                if (string.IsNullOrEmpty(options.SplitKeys[i]) || (i > 0 && string.CompareOrdinal(options.SplitKeys[i - 1], options.SplitKeys[i]) >= 0))
                {
                    failures.Add("NoKV cluster: SplitKeys must be non-empty and strictly ascending.");
                    break;
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
