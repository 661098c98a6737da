using System.Buffers;
using NoKv.Grains.Raft;
using NoKv.Raft;
using NoKv.Raft.Messages;
using NoKv.Raft.Storage;
using NoKv.Replica.Tests.Support;
using Xunit;

namespace NoKv.Replica.Tests.Codec;

/// <summary>
/// What Raft really sends passes the wire codec unchanged: three nodes in one thread, every message carried as
/// an encoded batch per destination and decoded before it is stepped, through elections (pre-vote), replication,
/// read-index requests, a leadership transfer, and a snapshot for a follower that fell behind a compaction. The
/// decoder's refusals (local types, unknown types, flags) must never drop real traffic.
/// </summary>
public sealed class RaftTrafficThroughCodecTests
{
    private const int Nodes = 3;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_message_raft_sends_round_trips_through_the_codec(int seed)
    {
        var random = new Random(seed);
        var storages = new MemoryRaftStorage[Nodes];
        var nodes = new RawNode[Nodes];
        var inboxes = new List<Message>[Nodes];
        for (int i = 0; i < Nodes; i++)
        {
            storages[i] = new MemoryRaftStorage(new ConfState(1, 2, 3));
            nodes[i] = new RawNode(new RaftConfig { Id = (ulong)(i + 1), Random = new Random(seed * 10 + i), SnapshotChunkSize = 4096 }, storages[i]);
            inboxes[i] = [];
        }

        var seen = new HashSet<MessageType>();
        var writer = new ArrayBufferWriter<byte>();
        bool isolateThird = false;
        for (int round = 0; round < 1500; round++)
        {
            var leader = Array.Find(nodes, n => n.IsLeader);
            if (leader is not null)
            {
                if (random.Next(3) == 0)
                {
                    leader.Propose(Mutator.RandomBytes(random, 1 + random.Next(2000)));
                }

                if (random.Next(10) == 0)
                {
                    nodes[random.Next(Nodes)].ReadIndex(BitConverter.GetBytes(round));
                }

                if (round == 500)
                {
                    leader.TransferLeadership(leader.Id % Nodes + 1);
                }
            }

            // Rounds 700-1000: the third node hears nothing, then the others compact their logs past it, so it
            // needs a snapshot (sent in chunks) to catch up.
            isolateThird = round is >= 700 and < 1000;
            if (round == 990)
            {
                for (int i = 0; i < Nodes - 1; i++)
                {
                    ulong applied = nodes[i].AppliedIndex;
                    storages[i].CreateSnapshot(applied, nodes[i].ConfState, Mutator.RandomBytes(random, 10_000));
                    storages[i].Compact(applied);
                }
            }

            foreach (var node in nodes)
            {
                node.Tick();
            }

            for (int i = 0; i < Nodes; i++)
            {
                if (!nodes[i].HasReady())
                {
                    continue;
                }

                var ready = nodes[i].GetReady();
                if (ready.Snapshot is { } snapshot && !snapshot.IsEmpty)
                {
                    storages[i].ApplySnapshot(snapshot);
                }

                storages[i].Append(ready.Entries.Span);
                if (ready.HardState is { } hardState)
                {
                    storages[i].SetHardState(hardState);
                }

                for (int to = 1; to <= Nodes; to++)
                {
                    writer.ResetWrittenCount();
                    var sent = new List<Message>();
                    foreach (var message in ready.Messages.Span)
                    {
                        if ((int)message.To == to)
                        {
                            RaftMessageCodec.Write(writer, message);
                            sent.Add(message);
                        }
                    }

                    if (sent.Count == 0 || (isolateThird && (to == 3 || i == 2)))
                    {
                        continue;
                    }

                    var received = RaftMessageCodec.ReadAll(writer.WrittenSpan.ToArray(), sent.Count);
                    for (int m = 0; m < sent.Count; m++)
                    {
                        RandomRaftMessages.Equal(sent[m], received[m], $"seed {seed}, round {round}, {sent[m]}");
                        seen.Add(received[m].Type);
                    }

                    inboxes[to - 1].AddRange(received);
                }

                nodes[i].Advance(ready);
            }

            for (int i = 0; i < Nodes; i++)
            {
                foreach (var message in inboxes[i])
                {
                    nodes[i].Step(message);
                }

                inboxes[i].Clear();
            }
        }

        MessageType[] expected =
        [
            MessageType.PreVote, MessageType.PreVoteResponse, MessageType.Vote, MessageType.VoteResponse,
            MessageType.Append, MessageType.AppendResponse, MessageType.Heartbeat, MessageType.HeartbeatResponse,
            MessageType.TimeoutNow, MessageType.Snapshot, MessageType.SnapshotResponse,
        ];
        Assert.All(expected, type => Assert.Contains(type, seen));
        Assert.True(nodes[2].AppliedIndex > 0 && nodes[2].FirstIndex > 1, $"seed {seed}: the third node did not catch up through a snapshot");
    }
}
