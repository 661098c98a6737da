using System.CommandLine;
using System.Globalization;
using NoKv.Abstractions.Sharding;

namespace NoKv.Cli.Commands;

/// <summary>
/// Controller operations (docs/controller.md, "Operations"): <c>nokv shard move SHARD FROM TO</c>,
/// <c>nokv leader transfer SHARD STORE</c> and <c>nokv store decommission N</c>. Each starts the operation and returns;
/// <c>nokv cluster status</c> shows it until it is done. Bad arguments (a store without the replica, a shard with an
/// operation in progress) exit 2 with the controller's reason.
/// </summary>
internal static class OperationCommands
{
    public static Command Shard()
    {
        var shard = new Argument<long>("shard") { Description = "The shard id." };
        var from = new Argument<int>("from") { Description = "The store that holds the replica." };
        var to = new Argument<int>("to") { Description = "The store to move it to." };
        var move = new Command("move", "Move a shard's replica from one store to another (learner, catch up, promote, remove the old one).") { shard, from, to };
        move.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            long id = await connection.Admin.MoveReplicaAsync(new ShardId(parse.GetValue(shard)), Store(parse.GetValue(from)), Store(parse.GetValue(to)), token);
            Write(parse, id, "move_replica", $"operation {id} started: move shard {parse.GetValue(shard)} from store {parse.GetValue(from)} to store {parse.GetValue(to)}");
            return 0;
        }));
        return new Command("shard", "Shard operations: split, merge, move.") { ShardCommands.Split(), ShardCommands.Merge(), move };
    }

    public static Command Leader()
    {
        var shard = new Argument<long>("shard") { Description = "The shard id." };
        var store = new Argument<int>("store") { Description = "The store whose voter should lead." };
        var transfer = new Command("transfer", "Hand a shard's leadership to its voter on a store.") { shard, store };
        transfer.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            long id = await connection.Admin.TransferLeaderAsync(new ShardId(parse.GetValue(shard)), Store(parse.GetValue(store)), token);
            Write(parse, id, "transfer_leader", $"operation {id} started: shard {parse.GetValue(shard)} leadership to store {parse.GetValue(store)}");
            return 0;
        }));
        return new Command("leader", "Leadership operations.") { transfer };
    }

    public static Command Decommission()
    {
        var store = new Argument<int>("store") { Description = "The store id." };
        var command = new Command("decommission", "Drain a store: its replicas move to other stores, then it is marked removed.") { store };
        command.SetAction((parse, ct) => CliRunner.RunAsync(parse, ct, async (connection, token) =>
        {
            await connection.Admin.DecommissionStoreAsync(Store(parse.GetValue(store)), token);
            Write(parse, null, "decommission", $"store {parse.GetValue(store)} is decommissioning; 'nokv cluster status' shows the moves");
            return 0;
        }));
        return command;
    }

    private static StoreId Store(int id) => id >= 1 ? new StoreId(id) : throw new CliException($"store ids start at 1, got {id}");

    private static void Write(ParseResult parse, long? operation, string kind, string text) =>
        parse.InvocationConfiguration.Output.WriteLine(CliOptions.IsJson(parse) ? CliJson.Write(writer =>
        {
            writer.WriteStartObject();
            if (operation is { } id)
            {
                writer.WriteNumber("operation", id);
            }
            else
            {
                writer.WriteNull("operation");
            }

            writer.WriteString("kind", kind);
            writer.WriteEndObject();
        }) : text.ToString(CultureInfo.InvariantCulture));
}
