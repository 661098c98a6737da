using NoKv.Raft.Quorum;
using Xunit;

namespace NoKv.Raft.Tests.Core;

public class QuorumTests
{
    private readonly struct Lookup(Dictionary<ulong, ulong> map) : IIndexLookup
    {
        public bool TryGetIndex(ulong id, out ulong index) => map.TryGetValue(id, out index);
    }

    [Theory]
    [InlineData(new ulong[] { 1 }, new ulong[] { 5 }, 5UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, new ulong[] { 5, 3, 1 }, 3UL)]
    [InlineData(new ulong[] { 1, 2, 3 }, new ulong[] { 5, 5, 1 }, 5UL)]
    [InlineData(new ulong[] { 1, 2 }, new ulong[] { 5, 3 }, 3UL)]
    [InlineData(new ulong[] { 1, 2, 3, 4 }, new ulong[] { 9, 8, 2, 1 }, 2UL)]
    [InlineData(new ulong[] { 1, 2, 3, 4, 5 }, new ulong[] { 9, 8, 7, 1, 1 }, 7UL)]
    public void MajorityCommittedIndex(ulong[] voters, ulong[] matches, ulong expected)
    {
        var map = voters.Zip(matches).ToDictionary(p => p.First, p => p.Second);
        Assert.Equal(expected, new MajorityConfig(voters).CommittedIndex(new Lookup(map)));
    }

    /// <summary>The fast implementation against the definition: the largest index acknowledged by a majority.</summary>
    [Fact]
    public void CommittedIndexMatchesNaiveDefinition()
    {
        var random = new Random(1234);
        for (var round = 0; round < 2000; round++)
        {
            var n = random.Next(1, 10);
            var voters = Enumerable.Range(1, n).Select(i => (ulong)i).ToArray();
            var map = new Dictionary<ulong, ulong>();
            foreach (var v in voters)
            {
                if (random.Next(5) > 0)
                {
                    map[v] = (ulong)random.Next(0, 20);
                }
            }

            ulong naive = 0;
            for (ulong candidate = 0; candidate <= 20; candidate++)
            {
                var acks = voters.Count(v => map.TryGetValue(v, out var m) && m >= candidate);
                if (acks > n / 2)
                {
                    naive = candidate;
                }
            }

            Assert.True(naive == new MajorityConfig(voters).CommittedIndex(new Lookup(map)), $"round {round} (seed 1234)");
        }
    }

    [Theory]
    [InlineData(3, 2, 0, VoteResult.Won)]
    [InlineData(3, 1, 1, VoteResult.Pending)]
    [InlineData(3, 1, 2, VoteResult.Lost)]
    [InlineData(4, 2, 0, VoteResult.Pending)]
    [InlineData(4, 2, 2, VoteResult.Lost)]
    [InlineData(5, 3, 2, VoteResult.Won)]
    [InlineData(1, 0, 0, VoteResult.Pending)]
    public void MajorityVoteResult(int voters, int yes, int no, VoteResult expected)
    {
        var ids = Enumerable.Range(1, voters).Select(i => (ulong)i).ToArray();
        var votes = new Dictionary<ulong, bool>();
        for (var i = 0; i < yes; i++)
        {
            votes[ids[i]] = true;
        }

        for (var i = yes; i < yes + no; i++)
        {
            votes[ids[i]] = false;
        }

        Assert.Equal(expected, new MajorityConfig(ids).VoteResult(votes));
    }

    [Fact]
    public void JointConfigNeedsBothHalves()
    {
        var joint = new JointConfig(new MajorityConfig([1, 2, 3]), new MajorityConfig([3, 4, 5]));
        var map = new Dictionary<ulong, ulong> { [1] = 10, [2] = 10, [3] = 4, [4] = 6, [5] = 2 };
        Assert.Equal(4UL, joint.CommittedIndex(new Lookup(map)));

        var votes = new Dictionary<ulong, bool> { [1] = true, [2] = true, [4] = false, [5] = false };
        Assert.Equal(VoteResult.Lost, joint.VoteResult(votes));
        votes = new Dictionary<ulong, bool> { [1] = true, [2] = true, [4] = true };
        Assert.Equal(VoteResult.Pending, joint.VoteResult(votes));
        votes[3] = true;
        Assert.Equal(VoteResult.Won, joint.VoteResult(votes));
    }

    [Fact]
    public void JointWithEmptyOutgoingIsTheIncomingConfig()
    {
        var joint = new JointConfig(new MajorityConfig([1, 2, 3]));
        var map = new Dictionary<ulong, ulong> { [1] = 7, [2] = 5, [3] = 1 };
        Assert.Equal(5UL, joint.CommittedIndex(new Lookup(map)));
    }

    [Fact]
    public void VoterIdZeroIsRejected() => Assert.Throws<ArgumentException>(() => new MajorityConfig([0, 1]));
}
