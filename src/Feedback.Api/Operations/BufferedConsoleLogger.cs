using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Operations;

/// <summary>
/// The console log with the built-in formatters (simple text, or JSON with LOG_FORMAT=json: the same lines, byte for
/// byte), written differently. The built-in console logger hands every line to its own thread and wakes it, and that
/// thread makes one write to standard output per line: under load, three thread switches and a system call per
/// request for the request log alone (bench/RESULTS.md). Here the calling thread formats the line into a shared
/// buffer, and one writer thread, woken once per batch, writes what gathered every <see cref="FlushEvery"/> in one
/// go. Lines wait at most that long; they are written at shutdown and at process exit. If standard output stops
/// taking lines, requests are not held up: past <see cref="MaxPendingBytes"/> waiting, lines are dropped and
/// counted, and the count is written when output moves again.
/// </summary>
[ProviderAlias("Console")]
internal sealed class BufferedConsoleLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    internal static readonly TimeSpan FlushEvery = TimeSpan.FromMilliseconds(50);
    internal const int MaxPendingBytes = 4 * 1024 * 1024;

    [ThreadStatic]
    private static StringWriter? t_line;

    private readonly ConsoleFormatter _formatter;
    private readonly LogLevel _standardErrorFrom;
    private readonly Stream _output;
    private readonly Stream _errors;
    private readonly Lock _gate = new();
    private readonly Lock _writeGate = new();
    private readonly Encoder _encoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetEncoder();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Thread _writer;
    private ArrayBufferWriter<byte> _pending = new(64 * 1024);
    private ArrayBufferWriter<byte> _writing = new(64 * 1024);
    private long _dropped;
    private volatile bool _stopping;
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public BufferedConsoleLoggerProvider(IOptionsMonitor<ConsoleLoggerOptions> options, IEnumerable<ConsoleFormatter> formatters)
        : this(options.CurrentValue, formatters, Console.OpenStandardOutput(), Console.OpenStandardError())
    {
    }

    internal BufferedConsoleLoggerProvider(ConsoleLoggerOptions options, IEnumerable<ConsoleFormatter> formatters, Stream output, Stream errors)
    {
        var name = options.FormatterName ?? ConsoleFormatterNames.Simple;
        _formatter = formatters.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No console log formatter is named '{name}'.");
        _standardErrorFrom = options.LogToStandardErrorThreshold;
        _output = output;
        _errors = errors;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "Console log writer" };
        _writer.Start();
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public ILogger CreateLogger(string categoryName) => new BufferedConsoleLogger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _stopping = true;
        _wake.Release();
        _writer.Join(TimeSpan.FromSeconds(5));
        WritePending();
        _wake.Dispose();
    }

    private void OnProcessExit(object? sender, EventArgs e) => WritePending();

    private void Write<TState>(string category, LogLevel level, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var line = t_line ??= new StringWriter(CultureInfo.InvariantCulture);
        var text = line.GetStringBuilder();
        try
        {
            _formatter.Write(new LogEntry<TState>(level, category, eventId, state, exception, formatter), _scopes, line);
            if (text.Length == 0)
            {
                return;
            }

            if (level >= _standardErrorFrom)
            {
                // Only when LogToStandardErrorThreshold is set, and for the rare levels it names: written at once.
                var bytes = Encoding.UTF8.GetBytes(text.ToString());
                lock (_writeGate)
                {
                    _errors.Write(bytes);
                    _errors.Flush();
                }

                return;
            }

            Append(text);
        }
        finally
        {
            // A long exception text must not keep its buffer alive on this thread for ever.
            if (text.Capacity > 16 * 1024)
            {
                t_line = null;
            }

            text.Clear();
        }
    }

    private void Append(StringBuilder text)
    {
        bool wasEmpty;
        lock (_gate)
        {
            if (_pending.WrittenCount + ((long)text.Length * 3) > MaxPendingBytes)
            {
                _dropped++;
                return;
            }

            wasEmpty = _pending.WrittenCount == 0;
            foreach (var chunk in text.GetChunks())
            {
                // One encoder across the chunks, so a surrogate pair split between two of them stays one character.
                _encoder.Convert(chunk.Span, _pending, flush: false, out _, out _);
            }

            _encoder.Convert(ReadOnlySpan<char>.Empty, _pending, flush: true, out _, out _);
        }

        if (wasEmpty)
        {
            _wake.Release();
        }
    }

    private void WriteLoop()
    {
        while (!_stopping)
        {
            _wake.Wait();
            if (!_stopping)
            {
                // Let the lines of the next few milliseconds join this write.
                Thread.Sleep(FlushEvery);
            }

            WritePending();
        }
    }

    private void WritePending()
    {
        lock (_writeGate)
        {
            long dropped;
            lock (_gate)
            {
                (_pending, _writing) = (_writing, _pending);
                dropped = _dropped;
                _dropped = 0;
            }

            try
            {
                if (_writing.WrittenCount > 0)
                {
                    _output.Write(_writing.WrittenSpan);
                }

                if (dropped > 0)
                {
                    _output.Write(Encoding.UTF8.GetBytes(string.Create(
                        CultureInfo.InvariantCulture, $"warn: {typeof(BufferedConsoleLoggerProvider).FullName}[0]{Environment.NewLine}      {dropped} log line(s) dropped: standard output did not keep up{Environment.NewLine}")));
                }

                _output.Flush();
            }
            catch (IOException)
            {
                // Standard output is gone (a closed pipe): there is nowhere left to write the log to.
            }

            _writing.ResetWrittenCount();
        }
    }

    private sealed class BufferedConsoleLogger(BufferedConsoleLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

internal static class BufferedConsoleLogging
{
    /// <summary>Puts <see cref="BufferedConsoleLoggerProvider"/> in the place of the console logger, with its formatters and options.</summary>
    public static ILoggingBuilder UseBufferedConsole(this ILoggingBuilder logging)
    {
        var console = logging.Services.Where(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList();
        if (console.Count > 0)
        {
            foreach (var descriptor in console)
            {
                logging.Services.Remove(descriptor);
            }

            logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ILoggerProvider, BufferedConsoleLoggerProvider>());
        }

        return logging;
    }
}
