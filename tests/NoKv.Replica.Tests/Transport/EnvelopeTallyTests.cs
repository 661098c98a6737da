using NoKv.Grains.Raft;
using NoKv.Raft.Messages;
using Xunit;

namespace NoKv.Replica.Tests.Transport;

public class EnvelopeTallyTests
{
    [Fact]
    public void ItSaysHowManyAppendsCarriedWhichEntriesAndStartsOverAfterAFlush()
    {
        var tally = new EnvelopeTally();
        Message[] group =
        [
            Append(5, 9),
            Append(5, 9),
            new Message { Type = MessageType.Heartbeat, To = 2, From = 1, Term = 1 },
        ];
        tally.Add(7, group, 1000);
        tally.Add(8, [Append(12, 12)], 400);

        Assert.Equal("4 messages: 3 appends carrying 11 entries of indexes 5-12, 0 snapshot chunks (0 bytes); largest group shard 7 (1000 bytes)", tally.ToString());

        tally.Clear();
        Assert.Equal("0 messages: 0 appends carrying 0 entries of indexes -, 0 snapshot chunks (0 bytes); largest group shard 0 (0 bytes)", tally.ToString());
    }

    private static Message Append(ulong first, ulong last)
    {
        var entries = new Entry[(int)(last - first + 1)];
        for (ulong i = first; i <= last; i++)
        {
            entries[i - first] = new Entry(1, i, EntryType.Normal, new byte[] { 1 });
        }

        return new Message { Type = MessageType.Append, To = 2, From = 1, Term = 1, Index = first - 1, LogTerm = 1, Entries = entries };
    }
}
