using NoKv.IntegrationTests.Infrastructure;
using NoKv.Silo.Configuration;
using NoKv.Silo.Startup;
using Xunit;

namespace NoKv.IntegrationTests.Silo;

/// <summary>Authentication and RESP password settings: mistakes stop the start with one line that never shows a secret.</summary>
public sealed class AuthStartupTests : IDisposable
{
    private const string Secret = "startup-secret-0123456789abcdefghijkl";

    private readonly StartupScratch _scratch = new("authstart");

    [Fact]
    public void AuthenticationOnNeedsExactlyOneKeySource()
    {
        var none = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s => s.Auth.Enabled = true)));
        Assert.Equal(StartupError.InvalidConfiguration, none.ExitCode);
        Assert.Contains("Auth:KeyFile", none.Message, StringComparison.Ordinal);

        var both = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.KeyFile = KeyFile("k1:" + Secret, private_: true);
            s.Auth.Keys = "k1:" + Secret;
        })));
        Assert.Equal(StartupError.InvalidConfiguration, both.ExitCode);
        Assert.DoesNotContain(Secret, both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyFileEveryUserCanReadIsRefused()
    {
        string path = KeyFile("k1:" + Secret, private_: false);

        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.KeyFile = path;
        })));

        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains($"{path} is readable by every user", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k1 " + Secret, "is not 'id:secret'")]
    [InlineData("k1:short", "at least 32")]
    [InlineData("", "no key")]
    public void AMalformedKeyFileIsRefusedNamingTheFile(string content, string expected)
    {
        string path = KeyFile(content, private_: true);

        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.KeyFile = path;
        })));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short", error.Message.Replace("shorter", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public void KeysLoadFromAFileOrFromKeyTextAndAreNeverPrinted()
    {
        var fromFile = Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.KeyFile = KeyFile($"# rotation in progress\nnew:{Secret}\nold:{Secret}-old\n", private_: true);
        });
        PreflightChecks.Run(fromFile);
        Assert.Equal(["new", "old"], fromFile.Auth.LoadedKeys()!.Keys.Select(k => k.Id));
        Assert.DoesNotContain(Secret, fromFile.Auth.ToString(), StringComparison.Ordinal);

        var fromText = Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.Keys = $"k1:{Secret};k0:{Secret}-0";
        });
        PreflightChecks.Run(fromText);
        Assert.Equal("k1", fromText.Auth.LoadedKeys()!.Primary.Id);

        var off = Settings(_ => { });
        PreflightChecks.Run(off);
        Assert.Null(off.Auth.LoadedKeys());
    }

    [Fact]
    public void TheRespPasswordCanComeFromAFile()
    {
        var settings = Settings(s => s.Resp.PasswordFile = KeyFile("redis-pass\n", private_: true));
        PreflightChecks.Run(settings);
        Assert.Equal("redis-pass", settings.Resp.Password);

        var both = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            s.Resp.Password = "inline";
            s.Resp.PasswordFile = KeyFile("redis-pass\n", private_: true);
        })));
        Assert.Contains("not both", both.Message, StringComparison.Ordinal);
    }

    private string KeyFile(string content, bool private_)
    {
        string path = Path.Combine(_scratch.Root, Guid.NewGuid().ToString("N")[..8] + ".keys");
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, private_ ? UnixFileMode.UserRead | UnixFileMode.UserWrite : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        return path;
    }

    [Fact]
    public void TheSlowDiskDebugSwitchIsRefusedWithAuthenticationOn()
    {
        string path = KeyFile("k1:" + Secret, private_: true);
        string control = Path.Combine(Path.GetTempPath(), "nokv-slow-disk-control");

        var error = Assert.Throws<StartupError>(() => PreflightChecks.Run(Settings(s =>
        {
            s.Auth.Enabled = true;
            s.Auth.KeyFile = path;
            s.Debug.SlowDiskControlFile = control;
        })));
        Assert.Equal(StartupError.InvalidConfiguration, error.ExitCode);
        Assert.Contains("Debug:SlowDiskControlFile", error.Message, StringComparison.Ordinal);

        // Without authentication (the local cluster, the chaos harness) it is accepted; the store warns at every start.
        PreflightChecks.Run(Settings(s => s.Debug.SlowDiskControlFile = control));
    }

    private SiloSettings Settings(Action<SiloSettings> change) => _scratch.Settings(change);

    public void Dispose() => _scratch.Dispose();
}
