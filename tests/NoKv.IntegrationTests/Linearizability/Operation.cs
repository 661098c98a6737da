namespace NoKv.IntegrationTests.Linearizability;

/// <summary>
/// One client operation on one key as observed by the client: when it was invoked and when it returned
/// (<see cref="Pending"/> when the client never learned the outcome, e.g. a timeout; such an operation may
/// have taken effect at any point after its invocation, or not at all).
/// </summary>
/// <param name="Value">Put/CAS: the value written (CAS: null = delete). Get: the value read (when not pending).</param>
/// <param name="Expected">CAS: the value compared against (null = absent).</param>
/// <param name="Swapped">CAS: the reported outcome (when not pending).</param>
public sealed record Operation(int Client, OperationKind Kind, string Key, string? Value, string? Expected, bool Swapped, long Invoke, long Return)
{
    public const long Pending = long.MaxValue;

    public bool IsPending => Return == Pending;

    public override string ToString() => Kind switch
    {
        OperationKind.Get => $"c{Client} get({Key}) -> {Value ?? "nil"} [{Invoke}, {(IsPending ? "?" : Return)}]",
        OperationKind.Put => $"c{Client} put({Key}, {Value}) [{Invoke}, {(IsPending ? "?" : Return)}]",
        OperationKind.Delete => $"c{Client} delete({Key}) [{Invoke}, {(IsPending ? "?" : Return)}]",
        _ => $"c{Client} cas({Key}, {Expected ?? "nil"} -> {Value ?? "nil"}) = {(IsPending ? "?" : Swapped)} [{Invoke}, {(IsPending ? "?" : Return)}]",
    };
}
