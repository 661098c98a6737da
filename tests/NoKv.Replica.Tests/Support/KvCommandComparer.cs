using NoKv.Replica.Commands;

namespace NoKv.Replica.Tests.Support;

/// <summary>KvCommand equality by content (the record compares its byte arrays by reference).</summary>
internal sealed class KvCommandComparer : IEqualityComparer<KvCommand>
{
    public static readonly KvCommandComparer Instance = new();

    public bool Equals(KvCommand? x, KvCommand? y) =>
        x is not null && y is not null
        && (x.Kind, x.Epoch, x.Session, x.ProposedAtMs) == (y.Kind, y.Epoch, y.Session, y.ProposedAtMs)
        && (x.ExpiresAtMs, x.KeepExpiry, x.Condition) == (y.ExpiresAtMs, y.KeepExpiry, y.Condition)
        && x.Key.AsSpan().SequenceEqual(y.Key)
        && Same(x.Value, y.Value)
        && Same(x.Expected, y.Expected);

    public int GetHashCode(KvCommand obj) => HashCode.Combine(obj.Kind, obj.Epoch, obj.Key.Length);

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
