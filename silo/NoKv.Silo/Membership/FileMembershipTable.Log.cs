using Microsoft.Extensions.Logging;

namespace NoKv.Silo.Membership;

public sealed partial class FileMembershipTable
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Created membership table {Path}")]
    private partial void LogCreated(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} dead silo rows last alive before {Before:O} from the membership table")]
    private partial void LogCleanedUp(int count, DateTimeOffset before);
}
