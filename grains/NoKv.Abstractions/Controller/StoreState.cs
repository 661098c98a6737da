namespace NoKv.Abstractions.Controller;

/// <summary>
/// A store's state as committed in the controller (docs/controller.md). Stored in the controller's store rows:
/// never renumber, only append.
/// </summary>
public enum StoreState : byte
{
    /// <summary>Heartbeating within the timeout.</summary>
    Up = 1,

    /// <summary>Not heard from for longer than the timeout; its replicas are candidates for re-replication.</summary>
    Down = 2,

    /// <summary>Being drained by an operator's request; receives no new replicas.</summary>
    Decommissioning = 3,

    /// <summary>Drained and gone for good; never comes back under the same id.</summary>
    Removed = 4,
}
