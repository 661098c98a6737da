// Each test runs its own multi-silo cluster; two at once would compete for the two cores and for
// timing-sensitive elections, so the assembly runs its tests one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
