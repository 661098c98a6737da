namespace NoKv.Silo.Http.Api;

/// <summary>
/// A controller operation in progress (docs/controller.md, "Operations"): its kind (re_replicate, move_replica,
/// split, merge, transfer_leader), shard, current step, stores moved between, when it started and entered its
/// step, and what it waits for, if anything.
/// </summary>
public sealed record ApiOperation(long Id, string Kind, long Shard, int Step, int? From, int? To, long CreatedUnixMs, long StepSinceUnixMs, string? Waiting);
