using Xunit;
using System.Text;

namespace NoKv.Raft.Tests.Core;

public class SmokeTests
{
    [Fact]
    public void ThreeNodesElectReplicateAndApply()
    {
        var c = new TestCluster(3);
        var leader = c.Elect(1);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(leader.Propose(Encoding.UTF8.GetBytes($"v{i}")).IsAccepted);
        }

        c.Deliver();
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            var data = c.AppliedData(id).Select(e => Encoding.UTF8.GetString(e.Data.Span)).ToArray();
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}"), data);
        }
    }
}
