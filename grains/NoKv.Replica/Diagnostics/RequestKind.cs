namespace NoKv.Replica.Diagnostics;

/// <summary>What a client asked a replica for; indexes <see cref="StoreRequestStats"/>' per-kind counters.</summary>
public enum RequestKind
{
    Write = 0,
    Get = 1,
    Scan = 2,
}
