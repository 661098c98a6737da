using Xunit;

namespace NoKv.IntegrationTests.Http;

/// <summary>The tests that share one <see cref="HttpClusterFixture"/> (starting three silo processes once).</summary>
[CollectionDefinition(Name)]
public sealed class HttpClusterCollection : ICollectionFixture<HttpClusterFixture>
{
    public const string Name = "http cluster";
}
