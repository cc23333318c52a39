using System.Diagnostics;
using System.Text;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>
/// The documented production set-up started by scripts/cluster.sh (two API processes of this build behind nginx with
/// deploy/nginx/nginx.conf, on the test PostgreSQL and Redis), once for a test class. Its export lines are bash's %q
/// quoting, undone here (a backslash before ';' in the connection string). Needs nginx (Debian package;
/// .ci/run installs it): without it the cluster tests are skipped, saying so.
/// </summary>
public sealed class Cluster : IAsyncLifetime
{
    /// <summary>Every key may send this many requests a minute, shared by both instances through Redis.</summary>
    public const int RatePerMinute = 200;

    private readonly string _stateDir = Directory.CreateTempSubdirectory("feedback-cluster-state-").FullName;
    private Dictionary<string, string> _settings = [];
    private Task? _started;

    public RecordingReceiver Slack { get; private set; } = null!;

    /// <summary>nginx: the one public address.</summary>
    public Uri Url => new(_settings["FEEDBACK_CLUSTER_URL"]);

    public Uri Instance(int n) => new(_settings[$"FEEDBACK_CLUSTER_API_{n}"]);

    public int ProcessId(int n) => int.Parse(_settings[$"FEEDBACK_CLUSTER_PID_{n}"], System.Globalization.CultureInfo.InvariantCulture);

    public PostgresDatabaseConnection Database => new(_settings["FEEDBACK_CLUSTER_DATABASE_URL"]);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Starts the cluster on the first call; every test of the class awaits it.</summary>
    public Task StartAsync()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux() && File.Exists("/usr/sbin/nginx"),
            "nginx is not installed (apt-get install nginx; .ci/run installs it): the cluster tests need it.");
        return _started ??= StartClusterAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_started is not null)
        {
            await RunScriptAsync("stop");
            await Slack.DisposeAsync();
        }

        Directory.Delete(_stateDir, recursive: true);
    }

    private async Task StartClusterAsync()
    {
        Slack = await RecordingReceiver.StartAsync();
        var output = await RunScriptAsync("start");
        _settings = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line["export ".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => Unquote(pair[1]), StringComparer.Ordinal);
    }

    private async Task<string> RunScriptAsync(string command)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(Repository.Root, "scripts", "cluster.sh"));
        info.ArgumentList.Add(command);
        info.Environment["FEEDBACK_CLUSTER_DIR"] = _stateDir;
        info.Environment["FEEDBACK_API_DLL"] = Path.Combine(AppContext.BaseDirectory, "Feedback.Api.dll");
        info.Environment["FEEDBACK_TEST_POSTGRES"] = TestServers.Postgres;
        info.Environment["FEEDBACK_TEST_REDIS"] = TestServers.Redis;
        info.Environment["API_KEY"] = $"{FeedbackApp.Key},{FeedbackApp.SecondKey}";
        info.Environment["RATE_LIMIT_PER_MINUTE"] = RatePerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CLASSIFIER"] = "fast";
        info.Environment["SLACK_WEBHOOK_URL"] = Slack.Url.ToString();

        // Every complaint is an alert of its own and goes out at once, as in MultiInstanceTests.
        info.Environment["ALERT_SEND_INTERVAL_MS"] = "10";
        info.Environment["ALERT_POLL_SECONDS"] = "0.5";
        info.Environment["ALERT_SENTIMENTS"] = "negative,mixed,neutral,positive";
        info.Environment["ALERT_MIN_CONFIDENCE"] = "low";
        info.Environment["ALERT_SIMILARITY_BITS"] = "0";
        info.Environment["ALERT_GROUP_WINDOW_SECONDS"] = "1";
        info.Environment["SPIKE_MIN_COUNT"] = "100000";

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/cluster.sh {command} failed ({process.ExitCode}):\n{await stderr}");
        }

        return await stdout;
    }

    /// <summary>Undoes bash's printf %q for a value without spaces or quotes: each backslash escapes the next character.</summary>
    private static string Unquote(string value)
    {
        var text = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            text.Append(value[i]);
        }

        return text.ToString();
    }
}

/// <summary>A connection string to the cluster's database, for checking what was really committed.</summary>
public sealed record PostgresDatabaseConnection(string ConnectionString)
{
    public long Scalar(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = new Npgsql.NpgsqlConnection(ConnectionString + ";Pooling=false");
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
