using Orleans;
using Orleans.Runtime;

namespace NoKv.Grains.Persistence;

/// <summary>Fails silo start with a message naming the provider when its options are unusable.</summary>
public sealed class NoKvGrainStorageOptionsValidator : IConfigurationValidator
{
    private readonly NoKvGrainStorageOptions _options;
    private readonly string _name;

    public NoKvGrainStorageOptionsValidator(NoKvGrainStorageOptions options, string name)
    {
        _options = options;
        _name = name;
    }

    public void ValidateConfiguration()
    {
        if (_options.GrainStorageSerializer is null)
        {
            throw new OrleansConfigurationException($"NoKV grain storage '{_name}': no GrainStorageSerializer is configured.");
        }

        if (_options.MaxStateBytes < 1)
        {
            throw new OrleansConfigurationException($"NoKV grain storage '{_name}': MaxStateBytes must be positive, was {_options.MaxStateBytes}.");
        }
    }
}
