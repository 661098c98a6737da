namespace NoKv.IntegrationTests.Serializability;

/// <summary>
/// One micro-operation of a transaction: an append of <see cref="Element"/> to <see cref="Key"/>'s list, or a read of
/// that list that observed <see cref="Observed"/> (empty for an absent key).
/// </summary>
public sealed record ListOp(ListOpKind Kind, string Key, int Element, IReadOnlyList<int>? Observed)
{
    public static ListOp Read(string key, IReadOnlyList<int> observed) => new(ListOpKind.Read, key, 0, observed);

    public static ListOp Append(string key, int element) => new(ListOpKind.Append, key, element, null);

    public override string ToString() => Kind == ListOpKind.Append
        ? $"append({Key}, {Element})"
        : $"read({Key}) = [{string.Join(',', Observed!)}]";
}
