using NoKv.Abstractions.Routing;
using Orleans.Runtime;

namespace NoKv.Client.Routing;

/// <summary>A direct route to a store: its store service reference and the gateway address it is sent to.</summary>
internal sealed record StoreRoute(IStoreService Service, SiloAddress Gateway);
