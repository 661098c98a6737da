namespace NoKv.Silo.Http.Api;

/// <summary>The controller's state when the cluster runs one: operations in progress and hot keys (empty until then).</summary>
public sealed record ApiController(
    IReadOnlyList<string> Operations,
    IReadOnlyList<ApiHotKey> HotKeys);
