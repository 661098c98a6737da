namespace NoKv.Chaos.Workload;

/// <summary>
/// One operation as a client saw it. Times are ticks of the run's monotonic clock (<see cref="RunClock"/>), taken just
/// before the call and just after it returned; <see cref="Return"/> is <see cref="long.MaxValue"/> for an
/// <see cref="OpOutcome.Unknown"/> outcome (it may take effect at any time after <see cref="Invoke"/>).
/// Values are small integers: 0 means absent, every write writes a value no other write in the run writes, so a read
/// names exactly one write.
/// </summary>
/// <param name="Value">Put, CAS: the value written (CAS to absent = 0). Get: the value read.</param>
/// <param name="Expected">CAS: the value compared with (0 = absent).</param>
/// <param name="Swapped">CAS: whether it swapped (when <see cref="OpOutcome.Ok"/>).</param>
public sealed record HistoryOp(int Client, OpKind Kind, int Key, int Shard, long Value, long Expected, bool Swapped, long Invoke, long Return, OpOutcome Outcome)
{
    public bool IsUnknown => Outcome == OpOutcome.Unknown;

    public override string ToString()
    {
        string at = $"[{Invoke}, {(IsUnknown ? "?" : Return.ToString(System.Globalization.CultureInfo.InvariantCulture))}]";
        return Kind switch
        {
            OpKind.Get => $"c{Client} get(k{Key}) -> {Show(Value)} {at}",
            OpKind.Put => $"c{Client} put(k{Key}, {Value}) {at}",
            OpKind.Delete => $"c{Client} delete(k{Key}) {at}",
            _ => $"c{Client} cas(k{Key}, {Show(Expected)} -> {Show(Value)}) = {(IsUnknown ? "?" : Swapped.ToString())} {at}",
        };
    }

    private static string Show(long value) => value == 0 ? "nil" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
