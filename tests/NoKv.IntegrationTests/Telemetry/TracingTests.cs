using System.Collections.Concurrent;
using System.Diagnostics;
using NoKv.Client;
using NoKv.IntegrationTests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Telemetry;

/// <summary>
/// Traces across Orleans calls: a client Put is one trace from the client's span through the store service and the
/// replica down to the Raft proposal that committed it, with Orleans' activity propagation carrying the context over
/// the client-to-silo hop (an in-process cluster, so one listener sees every span).
/// </summary>
public sealed class TracingTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_put_is_one_trace_from_the_client_through_the_replica_to_the_raft_commit()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("NoKv.", StringComparison.Ordinal) || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var cluster = await TestNoKvCluster.StartAsync(activityPropagation: true);
        await cluster.Store.PutAsync("warm-up", "x");

        ActivityTraceId trace;
        using (var root = new Activity("test").Start())
        {
            trace = root.TraceId;
            await cluster.Store.PutAsync("traced", "value");
        }

        var spans = await Eventually.WaitAsync(
            () => Task.FromResult(stopped.Where(a => a.TraceId == trace).ToList()),
            s => s.Any(a => a.OperationName == "nokv.raft.propose") && s.Any(a => a.OperationName == "nokv.client.Put"),
            TimeSpan.FromSeconds(10),
            "the Put's client and Raft spans");
        foreach (var span in spans)
        {
            output.WriteLine($"{span.Source.Name} {span.OperationName} {span.SpanId} <- {span.ParentSpanId}");
        }

        var client = spans.Single(a => a.OperationName == "nokv.client.Put");
        Assert.Equal("ok", client.GetTagItem("nokv.result"));
        var propose = spans.Single(a => a.OperationName == "nokv.raft.propose");
        var write = spans.Single(a => a.SpanId == propose.ParentSpanId);
        Assert.Equal("nokv.replica.write", write.OperationName);
        Assert.Equal("ok", write.GetTagItem("nokv.result"));
        Assert.True((long)propose.GetTagItem("nokv.raft.index")! > 0);
        Assert.True((long)propose.GetTagItem("nokv.raft.term")! > 0);

        // The replica's span descends from the client's, through the Orleans calls that carried the context.
        var byId = spans.ToDictionary(a => a.SpanId);
        var hops = new List<string>();
        var current = write;
        while (current.ParentSpanId != client.SpanId)
        {
            Assert.True(byId.TryGetValue(current.ParentSpanId, out var parent), $"the chain from the replica's span breaks after [{string.Join(" <- ", hops)}]");
            hops.Add(parent!.OperationName);
            current = parent;
        }

        Assert.NotEmpty(hops); // at least the client-to-silo call
    }
}
