using System.Diagnostics;
using System.Net;
using Feedback.Api.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// A full disk, made real with a small tmpfs mounted for the test (needs root, as on the developers'
/// machines and CI; elsewhere the test says so and skips). A read-only remount is refused by the kernel
/// while the database is open for writing, so that case is left to the SQLite error mapping.
/// </summary>
public sealed class DiskFaultTests : IDisposable
{
    private readonly string _mountPoint = Directory.CreateTempSubdirectory("feedback-disk-").FullName;
    private readonly bool _mounted;

    public DiskFaultTests()
    {
        _mounted = Run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", _mountPoint) == 0;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (_mounted)
        {
            Run("umount", "-l", _mountPoint);
        }

        Directory.Delete(_mountPoint, recursive: true);
    }

    [Fact]
    public async Task A_full_disk_answers_503_and_the_service_recovers_when_space_returns()
    {
        using var app = StartOnMount();
        var client = app.Client();
        (await client.PostFeedbackAsync(new { text = "Written while the disk still had room." })).StatusCode.ShouldBe(HttpStatusCode.Created);
        var filler = Path.Combine(_mountPoint, "filler.bin");
        FillDisk(filler);

        var refused = await PostUntilRefusedAsync(client);
        var health = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        refused.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
        refused.Headers.RetryAfter.ShouldNotBeNull();
        (await refused.JsonAsync()).Str("detail").ShouldContain("disk is full");
        (await health.JsonAsync()).Str("database").ShouldBe("unavailable");

        File.Delete(filler);
        var accepted = await client.PostFeedbackAsync(new { text = "Written after space came back." });
        var healthAfter = await (await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken)).JsonAsync();

        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
        healthAfter.Str("database").ShouldBe("ok");
    }

    private FeedbackApp StartOnMount()
    {
        if (!_mounted)
        {
            Assert.Skip("Mounting a tmpfs needs root; this machine refused it.");
        }

        return new FeedbackApp(new Dictionary<string, string>(StringComparer.Ordinal) { ["SQLITE_BUSY_TIMEOUT_MS"] = "200" }, dataDir: _mountPoint);
    }

    private static async Task<HttpResponseMessage> PostUntilRefusedAsync(HttpClient client)
    {
        // The last free pages may still take a row or two; a large text fills them quickly.
        var text = "The disk is filling up and this message is long. " + new string('x', 30_000);
        HttpResponseMessage response = null!;
        for (var i = 0; i < 20; i++)
        {
            response = await client.PostFeedbackAsync(new { text });
            if (response.StatusCode != HttpStatusCode.Created)
            {
                break;
            }
        }

        return response;
    }

    private static void FillDisk(string path)
    {
        using var stream = File.Create(path);
        var block = new byte[64 * 1024];
        try
        {
            while (true)
            {
                stream.Write(block);
                stream.Flush();
            }
        }
        catch (IOException)
        {
            // No space left: exactly what the test wants.
        }
    }

    private static int Run(string file, params string[] arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        try
        {
            using var process = Process.Start(info)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }
}
