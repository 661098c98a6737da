using NoKv.Client;

namespace NoKv.Resp.Execution;

/// <summary>
/// What a command's write does to the key's expiry. Redis's rules: SET, GETSET, MSET and SETNX give the new value no
/// expiry (<see cref="Clear"/>); INCR, APPEND and SET ... KEEPTTL keep the current one (<see cref="Keep"/>); SET ... EX,
/// SETEX, EXPIRE and GETEX set one, relative (<see cref="Ttl"/>, turned into an absolute time by the shard leader's
/// clock) or absolute (<see cref="At"/>).
/// </summary>
internal readonly record struct ExpiryWrite(ExpiryWriteMode Mode, long Milliseconds)
{
    public static ExpiryWrite Clear => default;

    public static ExpiryWrite Keep => new(ExpiryWriteMode.Keep, 0);

    public static ExpiryWrite Ttl(long milliseconds) => new(ExpiryWriteMode.Ttl, milliseconds);

    public static ExpiryWrite At(long unixMilliseconds) => new(ExpiryWriteMode.At, unixMilliseconds);

    /// <summary>The SDK's options for this expiry (null: no expiry).</summary>
    public KvWriteOptions? ToOptions() => Mode switch
    {
        ExpiryWriteMode.Keep => new KvWriteOptions { KeepTimeToLive = true },
        ExpiryWriteMode.Ttl => KvWriteOptions.WithTimeToLive(TimeSpan.FromMilliseconds(Milliseconds)),
        ExpiryWriteMode.At => new KvWriteOptions { ExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(Milliseconds) },
        _ => null,
    };
}
