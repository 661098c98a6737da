namespace NoKv.Resp.Protocol;

/// <summary>Bounds on one request (see <see cref="RespOptions"/> for what each means).</summary>
internal readonly record struct RespParserLimits(int MaxBulkBytes, int MaxArguments, long MaxRequestBytes, int MaxInlineBytes)
{
    public static RespParserLimits From(RespOptions options) =>
        new(options.MaxBulkBytes, options.MaxArguments, options.MaxRequestBytes, options.MaxInlineBytes);
}
