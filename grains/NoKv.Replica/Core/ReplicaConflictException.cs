namespace NoKv.Replica.Core;

/// <summary>
/// A replica cannot be created on a store: the store holds another peer of the shard, or the peer id was used there
/// before. Nothing was changed.
/// </summary>
public sealed class ReplicaConflictException : Exception
{
    public ReplicaConflictException(string message)
        : base(message)
    {
    }
}
