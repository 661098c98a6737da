using Microsoft.Extensions.Options;

namespace NoKv.Client;

/// <summary>Rejects unusable client options with a message naming the option.</summary>
public sealed class NoKvClientOptionsValidator : IValidateOptions<NoKvClientOptions>
{
    public ValidateOptionsResult Validate(string? name, NoKvClientOptions options)
    {
        var failures = new List<string>();
        if (options.MaxKeyBytes < 1)
        {
            failures.Add($"NoKvClientOptions.MaxKeyBytes must be at least 1, was {options.MaxKeyBytes}.");
        }

        if (options.MaxValueBytes < 0)
        {
            failures.Add($"NoKvClientOptions.MaxValueBytes must not be negative, was {options.MaxValueBytes}.");
        }

        if (options.OperationTimeout <= TimeSpan.Zero)
        {
            failures.Add("NoKvClientOptions.OperationTimeout must be positive.");
        }

        if (options.AttemptTimeout <= TimeSpan.Zero)
        {
            failures.Add("NoKvClientOptions.AttemptTimeout must be positive.");
        }

        if (options.InitialBackoff <= TimeSpan.Zero || options.MaxBackoff < options.InitialBackoff)
        {
            failures.Add("NoKvClientOptions.InitialBackoff must be positive and not above MaxBackoff.");
        }

        if (options.ScanPageSize < 1)
        {
            failures.Add($"NoKvClientOptions.ScanPageSize must be at least 1, was {options.ScanPageSize}.");
        }

        if (options.MaxWritesPerBatch < 1)
        {
            failures.Add($"NoKvClientOptions.MaxWritesPerBatch must be at least 1, was {options.MaxWritesPerBatch}.");
        }

        if (options.MaxWriteCallsInFlight < 1)
        {
            failures.Add($"NoKvClientOptions.MaxWriteCallsInFlight must be at least 1, was {options.MaxWriteCallsInFlight}.");
        }

        if (options.LockClockDriftRate is < 0 or >= 0.5 || double.IsNaN(options.LockClockDriftRate))
        {
            failures.Add($"NoKvClientOptions.LockClockDriftRate must be in [0, 0.5), was {options.LockClockDriftRate}.");
        }

        if (options.LockSafetyMargin < TimeSpan.Zero)
        {
            failures.Add("NoKvClientOptions.LockSafetyMargin must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
