namespace NoKv.Abstractions.Locks;

/// <summary>
/// A fencing token presented with a write: "I hold lock <see cref="Resource"/> with token <see cref="Token"/>".
/// The shard that owns the written key remembers, per resource, the highest token any fenced write presented to
/// it, and refuses a fenced write whose token is lower (<see cref="Errors.FencedOutException"/>), so a holder that
/// lost its lock (paused past its lease, cut off) cannot overwrite what a later holder wrote there (docs/locks.md).
/// </summary>
/// <param name="Resource">The lock's name, as bytes (the client SDK uses UTF-8 of the name).</param>
/// <param name="Token">The fencing token the lock service granted; positive.</param>
[GenerateSerializer, Immutable, Alias("nokv.LockFence")]
public sealed record LockFence([property: Id(0)] byte[] Resource, [property: Id(1)] long Token);
