using System.Collections.Concurrent;
using Feedback.Analysis.Llm;
using Feedback.Analysis.Themes;
using Feedback.Storage;

namespace Feedback.Api.Themes;

/// <summary>
/// With THEME_TITLES=llm and an LLM configured, a short title per theme asked of the LLM after each clustering, in the
/// background. A title is kept under the theme's content (its key phrases, which the clustering makes the same for the
/// same messages), so a theme the next clustering finds again is not asked about again; only a theme whose key phrases
/// changed is. Each call's tokens are counted in the store like every other LLM call's, and none is made once the month's
/// budget (LLM_TOKEN_BUDGET_MONTHLY) is spent or while the provider's circuit is open. Without a title the label stands.
/// The calls run beside the refresher, one clustering's at a time (the newest waiting), so a slow LLM never holds up
/// new messages joining their themes or the emerging themes' alerts.
/// </summary>
internal sealed partial class ThemeTitles(
    ThemeSettings settings, IServiceProvider services, IBackgroundReads reads, IFeedbackStore store, TimeProvider time, ILogger<ThemeTitles> logger)
{
    /// <summary>Themes titled at most per clustering, largest first: a bound on one clustering's calls.</summary>
    public const int MaxPerRefresh = 50;

    private readonly ConcurrentDictionary<string, string> _byContent = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private ThemeSnapshot? _next;
    private bool _draining;
    private readonly ThemeTitler? _titler = settings.LlmTitles && services.GetService<LlmClassifier>() is { } llm
        ? new ThemeTitler(llm, services.GetService<AiProvider>()?.Options.Redact)
        : null;

    /// <summary>Whether titles are asked for at all.</summary>
    public bool Enabled => _titler is not null;

    /// <summary>The LLM's title for a theme, or null (none asked for, none yet, or none usable).</summary>
    public string? For(ThemeInfo theme) => _byContent.TryGetValue(ContentKey(theme), out var title) ? title : null;

    /// <summary>Has the titles <paramref name="snapshot"/> lacks asked for in the background, after those of any clustering before it.</summary>
    public void Request(ThemeSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (_titler is null)
        {
            return;
        }

        lock (_gate)
        {
            _next = snapshot;
            if (_draining)
            {
                return;
            }

            _draining = true;
        }

        _ = Task.Run(() => DrainAsync(cancellationToken), CancellationToken.None);
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ThemeSnapshot snapshot;
            lock (_gate)
            {
                if (_next is null || cancellationToken.IsCancellationRequested)
                {
                    _draining = false;
                    return;
                }

                snapshot = _next;
                _next = null;
            }

            try
            {
                await RefreshAsync(snapshot, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogFailed(logger, exception);
            }
            catch (OperationCanceledException)
            {
                lock (_gate)
                {
                    _draining = false;
                }

                return;
            }
        }
    }

    /// <summary>Asks for the titles <paramref name="snapshot"/>'s largest themes lack; how many calls were made.</summary>
    public async Task<int> RefreshAsync(ThemeSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (_titler is null)
        {
            return 0;
        }

        var provider = services.GetService<AiProvider>();
        var now = time.GetUtcNow().UtcDateTime;
        var everything = new ThemeWindow(now.AddDays(-3660), now.AddDays(1));
        var calls = 0;
        foreach (var view in snapshot.View(everything, minSize: 1).Themes.Take(MaxPerRefresh))
        {
            var key = ContentKey(view.Theme);
            if (_byContent.ContainsKey(key))
            {
                continue;
            }

            if (provider is not null && (provider.Circuit.IsOpen || await provider.BudgetSpentAsync(cancellationToken)))
            {
                break;
            }

            var texts = await reads.TextsOfAsync(view.ExampleIds, cancellationToken);
            var answer = await _titler.TitleAsync(view.Theme.Keywords, [.. view.ExampleIds.Where(texts.ContainsKey).Select(id => texts[id])], cancellationToken);
            calls++;
            if (!answer.Usage.IsNone)
            {
                await store.RecordLlmUsageAsync(new LlmSpend(answer.Usage, now), cancellationToken);
            }

            if (answer.Title is { } title)
            {
                _byContent[key] = title;
            }
            else
            {
                LogNoTitle(logger, view.Theme.Id);
            }
        }

        return calls;
    }

    private static string ContentKey(ThemeInfo theme) => string.Join('\u001f', theme.Keywords);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Theme titles could not be asked for; the next clustering tries again")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The LLM gave no usable title for theme {ThemeId}; its label stands")]
    private static partial void LogNoTitle(ILogger logger, string themeId);
}
