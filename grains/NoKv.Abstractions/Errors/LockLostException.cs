namespace NoKv.Abstractions.Errors;

/// <summary>
/// The caller no longer holds the lock: its lease ran out (by the lock leader's clock, or by the client's own, more
/// cautious one) or it was released. Whatever the holder does next must not rely on the lock; fenced writes with
/// its token are refused once a later holder has written.
/// </summary>
[GenerateSerializer, Alias("nokv.LockLostException")]
public sealed class LockLostException : NoKvException
{
    public LockLostException(string name, long token, string reason)
        : base(NoKvErrorCode.LockNotHeld, $"Lock '{name}' (token {token}) is no longer held: {reason}")
    {
        Name = name;
        Token = token;
    }

    [Id(0)]
    public string Name { get; }

    [Id(1)]
    public long Token { get; }
}
