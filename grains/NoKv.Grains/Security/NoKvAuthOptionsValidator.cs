using Microsoft.Extensions.Options;
using NoKv.Abstractions.Security;

namespace NoKv.Grains.Security;

/// <summary>Rejects unusable authentication options at silo start with a message naming the setting (never a secret).</summary>
public sealed class NoKvAuthOptionsValidator : IValidateOptions<NoKvAuthOptions>
{
    public ValidateOptionsResult Validate(string? name, NoKvAuthOptions options)
    {
        var failures = new List<string>();
        if (options.Keys is null)
        {
            failures.Add("NoKV authentication: Keys must be set (a key file or key text of 'id:secret' entries).");
        }

        if (options.MaxClockSkew < NoKvAuthOptions.MinClockSkew || options.MaxClockSkew > TimeSpan.FromHours(1))
        {
            failures.Add($"NoKV authentication: MaxClockSkew must be between {NoKvAuthOptions.MinClockSkew.TotalSeconds:F0} s and 1 h, was {options.MaxClockSkew}.");
        }

        if (options.Principal is not null && !AuthToken.IsValidPrincipal(options.Principal))
        {
            failures.Add($"NoKV authentication: Principal must be 1 to {AuthToken.MaxPrincipalLength} of A-Z a-z 0-9 _ - : @.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
