using System.CommandLine;
using NoKv.Abstractions.Errors;

namespace NoKv.Cli.Commands;

/// <summary>Connects, runs one command body, and turns failures into one line and exit code 2.</summary>
internal static class CliRunner
{
    public static async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<ClusterConnection, CancellationToken, Task<int>> body)
    {
        try
        {
            await using var connection = await ClusterConnection.OpenAsync(parse, cancellationToken);
            return await body(connection, cancellationToken);
        }
        catch (NoKvException e)
        {
            Console.Error.WriteLine($"nokv: {e.Code}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is CliException or ArgumentException)
        {
            Console.Error.WriteLine($"nokv: {e.Message}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("nokv: cancelled");
            return 130;
        }
    }
}
