namespace NoKv.Chaos.Checking;

/// <summary>
/// What <see cref="HistoryChecker"/> found. <see cref="Violations"/>: keys whose history during the run is not
/// linearizable. <see cref="LostWrites"/>: keys whose run history is linearizable but not once the read after the
/// restart of every silo is appended, i.e. the final value contradicts what clients were told (an acknowledged write
/// gone, or a value that was never acknowledged when an acknowledged one should be there).
/// </summary>
public sealed record CheckResult(int KeysChecked, IReadOnlyList<string> Violations, IReadOnlyList<string> LostWrites, IReadOnlyList<string> Undecided);
