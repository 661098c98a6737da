using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NoKv.Abstractions.Errors;
using NoKv.Abstractions.Security;

namespace NoKv.Grains.Security;

/// <summary>
/// The silo's gate: every incoming call to a NoKV interface (grains and grain services alike, so the store service a
/// client calls directly is covered as well as the replica grains behind it) must carry a token valid under
/// <see cref="NoKvAuthOptions"/>, or it fails with <see cref="UnauthenticatedException"/> before the method runs, so a
/// refused call changes nothing. Raft delivery between replicas is a NoKV call too and carries the sending silo's token:
/// otherwise a client could hand forged Raft messages to a replica through its gateway. Calls to Orleans' own system
/// targets and to other applications' grains are not inspected.
/// <para>Refusals are logged as one warning per <see cref="LogInterval"/> with a count of those suppressed, naming the
/// method and the reason (claimed principal and key id), never a token or a secret.</para>
/// </summary>
public sealed partial class AuthCheckFilter : IIncomingGrainCallFilter
{
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    private readonly NoKvKeyRing _keys;
    private readonly TimeSpan _maxClockSkew;
    private readonly TimeProvider _time;
    private readonly ILogger<AuthCheckFilter> _logger;
    private readonly VerifiedTokens _verified = new();
    private long _nextLogUnixMs;
    private long _suppressed;

    public AuthCheckFilter(IOptions<NoKvAuthOptions> options, TimeProvider time, ILogger<AuthCheckFilter> logger)
    {
        _keys = options.Value.Keys ?? throw new InvalidOperationException("NoKV authentication: Keys must be set.");
        _maxClockSkew = options.Value.MaxClockSkew;
        _time = time;
        _logger = logger;
    }

    /// <summary>Calls refused since the silo started.</summary>
    public long Refused => Interlocked.Read(ref _refused);

    private long _refused;

    public Task Invoke(IIncomingGrainCallContext context)
    {
        if (!AuthRequestContext.IsNoKvCall(context.InterfaceMethod))
        {
            return context.Invoke();
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var token = RequestContext.Get(AuthRequestContext.Key) as string;
        if (token is not null && _verified.Contains(token, now))
        {
            return context.Invoke();
        }

        var check = AuthToken.Verify(token, _keys, now, _maxClockSkew);
        if (check.IsValid)
        {
            _verified.Add(token!, check.ValidUntilUnixMs);
            return context.Invoke();
        }

        string reason = check.Describe(_maxClockSkew);
        Interlocked.Increment(ref _refused);
        NoteRefusal(context, reason, now);
        return Task.FromException(new UnauthenticatedException(reason));
    }

    private void NoteRefusal(IIncomingGrainCallContext context, string reason, long now)
    {
        long next = Interlocked.Read(ref _nextLogUnixMs);
        if (now < next || Interlocked.CompareExchange(ref _nextLogUnixMs, now + (long)LogInterval.TotalMilliseconds, next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            return;
        }

        LogRefused(context.InterfaceName, context.MethodName, reason, Interlocked.Exchange(ref _suppressed, 0));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a call to {Interface}.{Method}: {Reason} ({Suppressed} more refusals since the last warning)")]
    private partial void LogRefused(string @interface, string method, string reason, long suppressed);
}
