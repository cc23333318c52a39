using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// The throw-away Redis the test run started (FEEDBACK_TEST_REDIS=host:port, set by ./run.sh test). Its absence
/// fails the test, so the Redis tests are never skipped silently; FEEDBACK_SKIP_SERVERS=1 skips them on purpose.
/// </summary>
public static class TestRedis
{
    public const string Variable = "FEEDBACK_TEST_REDIS";

    public static string Address()
    {
        var address = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(address))
        {
            return address.Trim();
        }

        Assert.SkipWhen(
            Environment.GetEnvironmentVariable("FEEDBACK_SKIP_SERVERS") == "1",
            $"FEEDBACK_SKIP_SERVERS=1: the Redis tests are skipped on purpose ({Variable} is not set).");
        Assert.Fail(
            $"{Variable} is not set. Run the tests through ./run.sh test (it starts a throw-away Redis), set {Variable}=host:port " +
            "of a Redis whose data may be thrown away, or set FEEDBACK_SKIP_SERVERS=1 to skip the Redis tests on purpose.");
        return null!;
    }

    /// <summary>
    /// REDIS_URL for the test Redis. Parallel tests on a loaded two-core machine can stall a reply past the
    /// service's 500 ms default; the instance then (rightly) goes on alone, which is not what a sharing test is
    /// about, so these hosts wait longer.
    /// </summary>
    public static string Url() => Address() + ",syncTimeout=5000,asyncTimeout=5000";

    /// <summary>A key prefix of its own, so tests sharing one Redis never see each other's keys.</summary>
    public static string NewPrefix() => $"test-{Guid.NewGuid():N}:";
}

/// <summary>
/// A redis-server of the test's own on a free loopback port, with no persistence, for a test that stops it.
/// Uses the same redis-server binary the test run's Redis comes from.
/// </summary>
public sealed class OwnRedisServer : IDisposable
{
    private readonly Process _process;

    private OwnRedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Address => $"127.0.0.1:{Port}";

    public static async Task<OwnRedisServer> StartAsync()
    {
        TestRedis.Address();
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed; ./run.sh test installs it (Debian package redis-server).");
        var port = FreePort();
        var info = new ProcessStartInfo(binary, ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new OwnRedisServer(process, port);
        for (var attempt = 0; attempt < 200; attempt++)
        {
            if (await AcceptsAsync(port))
            {
                return server;
            }

            await Task.Delay(25);
        }

        server.Dispose();
        throw new InvalidOperationException($"redis-server did not start listening on port {port}.");
    }

    /// <summary>Kills the server, as a crash or an outage would.</summary>
    public void Stop()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    /// <summary>A port nothing listens on (the OS picked it and it was released at once).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
