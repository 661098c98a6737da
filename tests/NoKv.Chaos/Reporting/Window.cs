namespace NoKv.Chaos.Reporting;

/// <summary>
/// A fault's unavailability window (see <see cref="Availability.Window"/>): its length, the shard (index into the run's
/// shard ids) that went longest without a completion, and where that gap began, in milliseconds after the fault's start
/// (0 when the shard completed nothing from the fault on).
/// </summary>
public readonly record struct Window(double Ms, int Shard, double GapFromMs);
