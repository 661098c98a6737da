using NoKv.Abstractions.Sharding;
using NoKv.Abstractions.Status;

namespace NoKv.Client.Admin;

/// <summary>One replica's status, or why it could not be read.</summary>
public sealed record ReplicaReport(ReplicaId Replica, ReplicaStatus? Status, string? Error);
