using System.Diagnostics;
using System.Net;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>The API as a real child process (the built Feedback.Api.dll), for what an in-process host cannot show: crashes and start-up failures.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>Where the server listens, once it said so (it binds a port the OS picks, so no two tests race for one).</summary>
    public Uri BaseAddress => _listening.Task.IsCompletedSuccessfully ? _listening.Task.Result : throw new InvalidOperationException("The server has not started listening.");

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    public static ServerProcess Start(IReadOnlyDictionary<string, string> environment, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Feedback.Api.dll"));
        info.Environment["PORT"] = "0";
        info.Environment["HOST"] = "127.0.0.1";
        info.Environment.Remove("ASPNETCORE_URLS");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        // The lexical model unless a test asks for the deep one: its answers are the ones these tests pin.
        info.Environment["CLASSIFIER"] = "fast";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new ServerProcess(Process.Start(info)!);
    }

    /// <summary>Waits until /health answers, or the process exits.</summary>
    public async Task<bool> WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            await _listening.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return false;
        }

        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(15) };
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                var response = await client.GetAsync(new Uri("/health", UriKind.Relative));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or too busy starting to answer: ask again.
            }

            await Task.Delay(100);
        }

        return false;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancellation.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, exactly what a crash or the OOM killer does.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Add(line);
        }

        const string marker = "Now listening on: ";
        var at = line.IndexOf(marker, StringComparison.Ordinal);
        if (at >= 0 && Uri.TryCreate(line[(at + marker.Length)..].Trim(), UriKind.Absolute, out var address))
        {
            _listening.TrySetResult(address);
        }
    }
}
