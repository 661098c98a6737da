using Microsoft.Extensions.Logging;
using NoKv.Abstractions.Sharding;

namespace NoKv.Grains.Store;

public sealed partial class LocalStore
{
    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store} opened at {Path}")]
    private partial void LogOpened(StoreId store, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "NoKV store {Store} closed")]
    private partial void LogClosed(StoreId store);
}
