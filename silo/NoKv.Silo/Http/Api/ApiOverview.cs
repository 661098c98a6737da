namespace NoKv.Silo.Http.Api;

/// <summary>GET /api/overview: everything the dashboard shows, in one answer (docs/dashboard.md).</summary>
public sealed record ApiOverview(
    string ClusterId,
    long UnixMs,
    int ServedBy,
    ApiTotals Totals,
    IReadOnlyList<ApiStore> Stores,
    IReadOnlyList<ApiShard> Shards,
    IReadOnlyList<ApiSample> Series,
    IReadOnlyList<ApiEvent> Events,
    ApiController? Controller);
