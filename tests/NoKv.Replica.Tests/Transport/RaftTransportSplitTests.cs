using NoKv.Grains.Raft;
using Xunit;

namespace NoKv.Replica.Tests.Transport;

public class RaftTransportSplitTests
{
    private const int Limit = RaftTransport.MaxEnvelopeBytes;

    [Fact]
    public void WhatFitsTravelsInOneEnvelope()
    {
        var written = Bytes(300);
        var envelopes = RaftTransport.Split(written, [100, 250, 300]);
        var single = Assert.Single(envelopes);
        Assert.Equal(3, single.Groups);
        Assert.Equal(written, single.Payload);
    }

    [Fact]
    public void EnvelopesAreCutBetweenGroupsInOrderAndLoseNothing()
    {
        // Five groups of 40% of the limit each: two per envelope, the last alone.
        int group = Limit * 2 / 5;
        var ends = Enumerable.Range(1, 5).Select(i => i * group).ToList();
        var written = Bytes(ends[^1]);

        var envelopes = RaftTransport.Split(written, ends);

        Assert.Equal([2, 2, 1], envelopes.Select(e => e.Groups));
        Assert.All(envelopes, e => Assert.True(e.Payload.Length <= Limit));
        Assert.Equal(written, envelopes.SelectMany(e => e.Payload).ToArray());
    }

    [Fact]
    public void AGroupLargerThanTheLimitTravelsAlone()
    {
        var ends = new List<int> { 10, 10 + Limit + 5, 20 + Limit + 5 };
        var written = Bytes(ends[^1]);

        var envelopes = RaftTransport.Split(written, ends);

        Assert.Equal([1, 1, 1], envelopes.Select(e => e.Groups));
        Assert.Equal(Limit + 5, envelopes[1].Payload.Length);
        Assert.Equal(written, envelopes.SelectMany(e => e.Payload).ToArray());
    }

    private static byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        new Random(length).NextBytes(bytes);
        return bytes;
    }
}
