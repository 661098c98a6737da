using System.Globalization;
using Microsoft.Playwright;
using Xunit;
using Xunit.Abstractions;

namespace NoKv.IntegrationTests.Http;

/// <summary>
/// The web dashboard in a real browser (Debian's chromium driven by Playwright; it cannot download its own browsers
/// here): the page loads from a silo, shows every store and shard, and its numbers and charts move when the cluster is
/// written to. Saves a screenshot beside the test assembly (dashboard.png) and names it in the test output.
/// </summary>
[Collection(HttpClusterCollection.Name)]
public sealed class DashboardBrowserTests(HttpClusterFixture cluster, ITestOutputHelper output)
{
    /// <summary>The system browser; NOKV_CHROMIUM overrides it. .ci/run installs Debian's chromium when missing.</summary>
    private static string Chromium => Environment.GetEnvironmentVariable("NOKV_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    [Fact]
    public async Task Dashboard_shows_the_cluster_and_its_numbers_move_when_keys_are_written()
    {
        Assert.True(File.Exists(Chromium), $"no browser at {Chromium}: install Debian's chromium (apt-get install -y chromium) or set NOKV_CHROMIUM");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,

            // Running as root in a container: chromium's sandbox needs user namespaces it may not have.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 1200 } });
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add(e);

        await page.GotoAsync(cluster.Base(2).ToString());
        await page.WaitForFunctionAsync("() => document.getElementById('connection').textContent === 'live'", null, new PageWaitForFunctionOptions { Timeout = 20_000 });

        Assert.Equal(3, await page.Locator("#stores-table tbody tr[data-state=up]").CountAsync());
        int shards = int.Parse(await page.EvaluateAsync<string>("() => String(window.nokvLast.shards.length)"), CultureInfo.InvariantCulture);
        Assert.Equal(shards, await page.Locator("#shards-table tbody tr").CountAsync());
        Assert.Equal("3 / 3", await page.Locator("#total-stores").InnerTextAsync());
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelector('img.logo').naturalWidth > 0"), "the logo did not load");
        long before = long.Parse(await page.Locator("#total-requests").GetAttributeAsync("data-value") ?? "0", CultureInfo.InvariantCulture);
        long commitBefore = await CommitSumAsync(page);

        const int keys = 120;
        await cluster.WriteAndReadAsync("browser", keys);

        // The page picks the traffic up on its own: counters, Raft indexes and the throughput chart.
        await page.WaitForFunctionAsync(
            $"() => Number(document.getElementById('total-requests').dataset.value) >= {before + (2 * keys)}",
            null,
            new PageWaitForFunctionOptions { Timeout = 20_000 });
        await page.WaitForFunctionAsync(
            "() => window.nokvLast.series.some(s => s.writesPerSecond > 0 && s.writeP99Ms > 0) && Number(document.getElementById('throughput-chart').dataset.points) > 1",
            null,
            new PageWaitForFunctionOptions { Timeout = 20_000 });
        Assert.True(await CommitSumAsync(page) >= commitBefore + keys, "the shards table's commit indexes did not advance with the writes");
        Assert.True(await page.Locator("#throughput-chart polyline[data-series=writesPerSecond]").CountAsync() == 1);
        Assert.True(await page.Locator("#latency-chart polyline[data-series=writeP99Ms]").CountAsync() == 1);
        Assert.True(await page.Locator("#events li").CountAsync() > 0);

        // A key served over and over appears among the hot keys once a leader's window (about 10 s) covered it; the
        // operations panel shows the controller's answer (none in progress here, and no error).
        var hotUntil = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (await page.Locator("#hot-keys tr.hot-key", new PageLocatorOptions { HasText = "browser-hot-key" }).CountAsync() == 0)
        {
            Assert.True(DateTime.UtcNow < hotUntil, "the hot keys panel never showed the hammered key");
            await cluster.HammerAsync("browser-hot-key", 200);
        }

        Assert.Contains("No operations in progress", await page.Locator("#operations").InnerTextAsync());

        string screenshot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        output.WriteLine($"screenshot: {screenshot}");
        Assert.Empty(errors);
    }

    private static async Task<long> CommitSumAsync(IPage page) =>
        long.Parse(await page.EvaluateAsync<string>(
            "() => String([...document.querySelectorAll('#shards-table tbody td.commit')].reduce((a, td) => a + Number(td.textContent.replaceAll(',', '')), 0))"),
            CultureInfo.InvariantCulture);
}
