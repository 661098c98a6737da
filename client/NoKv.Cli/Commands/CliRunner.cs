using System.CommandLine;
using NoKv.Abstractions.Errors;

namespace NoKv.Cli.Commands;

/// <summary>
/// Runs one command body and turns failures into one line on stderr and exit code 2 (with <c>--output json</c>, also an
/// error document on stdout, so a script reading stdout always gets JSON).
/// </summary>
internal static class CliRunner
{
    /// <summary>Connects to the cluster, then runs <paramref name="body"/>.</summary>
    public static Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken, Func<ClusterConnection, CancellationToken, Task<int>> body) =>
        RunOfflineAsync(parse, async () =>
        {
            await using var connection = await ClusterConnection.OpenAsync(parse, cancellationToken);
            return await body(connection, cancellationToken);
        });

    /// <summary>Runs <paramref name="body"/>, which needs no cluster (offline commands).</summary>
    public static async Task<int> RunOfflineAsync(ParseResult parse, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (NoKvException e)
        {
            return Fail(parse, e.Code.ToString(), $"{e.Code}: {e.Message}", 2);
        }
        catch (CliException e)
        {
            return Fail(parse, e.Code, e.Message, 2);
        }
        catch (ArgumentException e)
        {
            return Fail(parse, "invalid", e.Message, 2);
        }
        catch (OperationCanceledException)
        {
            return Fail(parse, "cancelled", "cancelled", 130);
        }
    }

    public static int Fail(ParseResult parse, string code, string message, int exitCode)
    {
        parse.InvocationConfiguration.Error.WriteLine($"nokv: {message}");
        if (CliOptions.IsJson(parse))
        {
            parse.InvocationConfiguration.Output.WriteLine(CliJson.Error(code, message));
        }

        return exitCode;
    }
}
