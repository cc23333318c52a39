using System.Globalization;
using System.Text;
using System.Text.Json;
using Feedback.Api.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>The buffered console log: the built-in formatters' lines, all of them, in order, without holding up the caller.</summary>
public sealed partial class ConsoleLogTests
{
    [Fact]
    public void Text_lines_are_those_of_the_built_in_simple_formatter()
    {
        var formatters = Formatters(logging => logging.AddSimpleConsole());
        var output = new MemoryStream();
        var provider = new BufferedConsoleLoggerProvider(new ConsoleLoggerOptions(), formatters, output, new MemoryStream());
        var logger = provider.CreateLogger("Feedback.Api.Operations.RequestLogging");

        Log.Answered(logger, "/feedback", 201);
        Log.Unavailable(logger, "disk full");
        provider.Dispose();

        var expected = new StringWriter(CultureInfo.InvariantCulture);
        var simple = formatters.Single(f => f.Name == ConsoleFormatterNames.Simple);
        simple.Write(Entry(LogLevel.Information, 7, "POST /feedback answered 201"), null, expected);
        simple.Write(Entry(LogLevel.Warning, 8, "Store unavailable: disk full"), null, expected);
        Encoding.UTF8.GetString(output.ToArray()).ShouldBe(expected.ToString());
        expected.ToString().ShouldContain("info: Feedback.Api.Operations.RequestLogging[7]");
    }

    [Fact]
    public void With_the_json_formatter_every_line_is_one_json_object_with_its_structured_fields()
    {
        var formatters = Formatters(logging => logging.AddJsonConsole());
        var output = new MemoryStream();
        var provider = new BufferedConsoleLoggerProvider(new ConsoleLoggerOptions { FormatterName = ConsoleFormatterNames.Json }, formatters, output, new MemoryStream());
        var logger = provider.CreateLogger("Feedback.Api.Operations.RequestLogging");

        Log.AnsweredFor(logger, "/feedback", 201, "Zoë \U0001F600");
        Log.Second(logger);
        provider.Dispose();

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Length.ShouldBe(2);
        using var first = JsonDocument.Parse(lines[0]);
        first.RootElement.GetProperty("Message").GetString().ShouldBe("POST /feedback answered 201 for Zoë \U0001F600");
        first.RootElement.GetProperty("State").GetProperty("Status").GetInt32().ShouldBe(201);
        JsonDocument.Parse(lines[1]).RootElement.GetProperty("Message").GetString().ShouldBe("second");
    }

    [Fact]
    public async Task Lines_reach_standard_output_while_the_service_runs_not_only_at_shutdown()
    {
        var output = new LockedStream();
        using var provider = new BufferedConsoleLoggerProvider(new ConsoleLoggerOptions(), Formatters(logging => logging.AddSimpleConsole()), output, new MemoryStream());

        var logger = provider.CreateLogger("Test");
        Log.Listening(logger, "http://127.0.0.1:8000");

        // The writer thread takes the line whenever it is scheduled; the bound (a minute) only ends a hung test, while a
        // writer that keeps lines until shutdown still fails here because the provider is not disposed before the check.
        for (var i = 0; i < 6000 && !output.Text.Contains("Now listening on: http://127.0.0.1:8000", StringComparison.Ordinal); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        output.Text.ShouldContain("Now listening on: http://127.0.0.1:8000");
    }

    [Fact]
    public async Task Lines_from_many_threads_are_all_written_whole()
    {
        var output = new MemoryStream();
        var provider = new BufferedConsoleLoggerProvider(
            new ConsoleLoggerOptions { FormatterName = ConsoleFormatterNames.Json }, Formatters(logging => logging.AddJsonConsole()), output, new MemoryStream());
        var logger = provider.CreateLogger("Test");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(thread => Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++)
            {
                Log.Line(logger, thread, i);
            }
        })));
        provider.Dispose();

        var seen = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("Message").GetString())
            .ToList();
        seen.Count.ShouldBe(16_000);
        seen.Distinct().Count().ShouldBe(16_000);
    }

    [Fact]
    public void A_stalled_standard_output_drops_lines_and_says_how_many_instead_of_holding_up_requests()
    {
        var output = new StallingStream();
        var provider = new BufferedConsoleLoggerProvider(new ConsoleLoggerOptions(), Formatters(logging => logging.AddSimpleConsole()), output, new MemoryStream());
        var logger = provider.CreateLogger("Test");
        var line = new string('x', 1000);

        // About 20 MB while nothing is written: more than twice the waiting buffer, so lines must be dropped however
        // late the writer thread takes its first batch (it can hold one batch and one waiting buffer, no more).
        const int Lines = 20_000;
        for (var i = 0; i < Lines; i++)
        {
            Log.Numbered(logger, line, i);
        }

        output.Release();
        provider.Dispose();

        var text = output.Text;
        var kept = text.Split(Environment.NewLine).Count(l => l.TrimStart().StartsWith(line + " ", StringComparison.Ordinal));
        var reported = text.Split(Environment.NewLine)
            .Where(l => l.EndsWith(" log line(s) dropped: standard output did not keep up", StringComparison.Ordinal))
            .Sum(l => long.Parse(l.Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        text.ShouldContain(line + " 0" + Environment.NewLine);
        kept.ShouldBeLessThanOrEqualTo(2 * BufferedConsoleLoggerProvider.MaxPendingBytes / line.Length);
        reported.ShouldBeGreaterThan(0);
        (kept + reported).ShouldBe(Lines, "every line is either written or counted as dropped");
    }

    private static List<ConsoleFormatter> Formatters(Action<ILoggingBuilder> configure)
    {
        using var services = new ServiceCollection().AddLogging(configure).BuildServiceProvider();
        return [.. services.GetServices<ConsoleFormatter>()];
    }

    private static LogEntry<string> Entry(LogLevel level, int eventId, string message) =>
        new(level, "Feedback.Api.Operations.RequestLogging", eventId, message, null, (s, _) => s);

    /// <summary>A memory stream that can be read while the writer thread writes to it.</summary>
    private sealed class LockedStream : MemoryStream
    {
        private readonly Lock _gate = new();

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return Encoding.UTF8.GetString(ToArray());
                }
            }
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            lock (_gate)
            {
                base.Write(buffer);
            }
        }
    }

    /// <summary>Standard output that takes nothing until released, like a pipe nobody reads.</summary>
    private sealed class StallingStream : MemoryStream
    {
        private readonly ManualResetEventSlim _released = new();

        public string Text => Encoding.UTF8.GetString(ToArray());

        public void Release() => _released.Set();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _released.Wait();
            base.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            _released.Dispose();
            base.Dispose(disposing);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "POST {Route} answered {Status}")]
        public static partial void Answered(ILogger logger, string route, int status);

        [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Store unavailable: {Reason}")]
        public static partial void Unavailable(ILogger logger, string reason);

        [LoggerMessage(EventId = 9, Level = LogLevel.Information, Message = "POST {Route} answered {Status} for {Customer}")]
        public static partial void AnsweredFor(ILogger logger, string route, int status, string customer);

        [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "second")]
        public static partial void Second(ILogger logger);

        [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Now listening on: {Address}")]
        public static partial void Listening(ILogger logger, string address);

        [LoggerMessage(EventId = 12, Level = LogLevel.Information, Message = "thread {Thread} line {Line}")]
        public static partial void Line(ILogger logger, int thread, int line);

        [LoggerMessage(EventId = 13, Level = LogLevel.Information, Message = "{Text} {Number}")]
        public static partial void Numbered(ILogger logger, string text, int number);
    }
}
