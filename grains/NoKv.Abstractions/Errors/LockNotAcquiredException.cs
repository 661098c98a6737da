namespace NoKv.Abstractions.Errors;

/// <summary>The lock is held by another owner and the caller's wait ran out (or it asked not to wait); nothing is held.</summary>
[GenerateSerializer, Alias("nokv.LockNotAcquiredException")]
public sealed class LockNotAcquiredException : NoKvException
{
    public LockNotAcquiredException(string name, string reason)
        : base(NoKvErrorCode.LockNotAcquired, $"Lock '{name}' was not acquired: {reason}")
    {
        Name = name;
    }

    [Id(0)]
    public string Name { get; }
}
