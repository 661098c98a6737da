using Microsoft.Extensions.Options;

namespace NoKv.Grains.Controller;

/// <summary>Rejects controller settings the balancer cannot run with (a tolerance below 1 would flap), naming the setting.</summary>
public sealed class NoKvControllerOptionsValidator : IValidateOptions<NoKvControllerOptions>
{
    public ValidateOptionsResult Validate(string? name, NoKvControllerOptions options)
    {
        try
        {
            options.ToBalancerOptions().Validate();
        }
        catch (ArgumentException e)
        {
            return ValidateOptionsResult.Fail($"NoKV controller: {e.Message}");
        }

        return options.BalanceInterval <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail($"NoKV controller: BalanceInterval must be positive, was {options.BalanceInterval}.")
            : ValidateOptionsResult.Success;
    }
}
