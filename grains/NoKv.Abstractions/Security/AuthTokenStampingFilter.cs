namespace NoKv.Abstractions.Security;

/// <summary>
/// Puts this process's current token on every outgoing call to a NoKV interface. Registered by clients with a key
/// (AddNoKvClientAuthentication) and by silos with authentication on, so a silo's own calls (Raft delivery, the store
/// service reaching a local replica, the RESP gateway's client) present the silo's token rather than whatever token
/// the call that caused them carried: a client's token is checked once where it enters the cluster and is never
/// relied on downstream, where it might outlive its window.
/// </summary>
public sealed class AuthTokenStampingFilter(AuthTokenIssuer issuer) : IOutgoingGrainCallFilter
{
    public async Task Invoke(IOutgoingGrainCallContext context)
    {
        if (AuthRequestContext.IsNoKvCall(context.InterfaceMethod))
        {
            // Set inside this async method: the change is seen by the call being made and undone for the caller
            // when this method returns, so it never leaks into the caller's later calls.
            RequestContext.Set(AuthRequestContext.Key, issuer.Current);
        }

        await context.Invoke().ConfigureAwait(false);
    }
}
