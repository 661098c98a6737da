using System.CommandLine;
using System.Globalization;
using System.Text;
using NoKv.Abstractions.Sharding;

namespace NoKv.Cli.Commands;

/// <summary>`nokv shard split SHARD [KEY]` and `nokv shard merge SOURCE TARGET`: through the controller (a subcommand of `nokv shard`, <see cref="OperationCommands.Shard"/>).</summary>
internal static class ShardCommands
{
    public static Command Split()
    {
        var shard = new Argument<long>("shard") { Description = "The shard to split (its id, as `nokv cluster status` shows)." };
        var key = new Argument<string?>("key") { DefaultValueFactory = _ => null, Description = "Split key (UTF-8): the first key of the new shard. Without it, the key that halves the shard by size." };
        var split = new Command("split", "Split a shard in two; prints both halves.") { shard, key };
        split.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            string? name = parse.GetValue(key);
            var outcome = await connection.Admin.SplitShardAsync(new ShardId(parse.GetValue(shard)), name is null ? null : Encoding.UTF8.GetBytes(name), token);
            var output = parse.InvocationConfiguration.Output;
            if (CliOptions.IsJson(parse))
            {
                output.WriteLine(CliJson.Write(json =>
                {
                    json.WriteStartObject();
                    Write(json, "left", outcome.Left);
                    Write(json, "right", outcome.Right);
                    json.WriteEndObject();
                }));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"split: {outcome.Left}"));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  new: {outcome.Right}"));
            }

            return 0;
        }));
        return split;
    }

    public static Command Merge()
    {
        var source = new Argument<long>("source") { Description = "The shard to merge away (its id, as `nokv cluster status` shows)." };
        var target = new Argument<long>("target") { Description = "Its adjacent neighbour, on the same stores, which takes the range over." };
        var merge = new Command("merge", "Merge a shard into its adjacent neighbour; prints the merged shard.") { source, target };
        merge.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            var outcome = await connection.Admin.MergeShardsAsync(new ShardId(parse.GetValue(source)), new ShardId(parse.GetValue(target)), token);
            var output = parse.InvocationConfiguration.Output;
            if (CliOptions.IsJson(parse))
            {
                output.WriteLine(CliJson.Write(json =>
                {
                    json.WriteStartObject();
                    Write(json, "merged", outcome.Merged);
                    json.WriteNumber("source", outcome.Source.Value);
                    json.WriteEndObject();
                }));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"merged: {outcome.Merged} (shard {outcome.Source} merged in)"));
            }

            return 0;
        }));
        return merge;
    }

    private static void Write(System.Text.Json.Utf8JsonWriter json, string name, ShardDescriptor shard)
    {
        json.WriteStartObject(name);
        json.WriteNumber("id", shard.Id.Value);
        json.WriteString("start", Convert.ToHexString(shard.Range.Start));
        if (shard.Range.End.Length == 0)
        {
            json.WriteNull("end");
        }
        else
        {
            json.WriteString("end", Convert.ToHexString(shard.Range.End));
        }

        json.WriteNumber("epoch", shard.Epoch);
        json.WriteEndObject();
    }
}
