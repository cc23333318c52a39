using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Model;
using Feedback.Analysis.Local.Training;
using Feedback.Cli.Store;
using Spectre.Console;

namespace Feedback.Cli;

/// <summary>The terminal program: the interactive analyser and one-shot commands, all on the local classifier.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var command = args.Length > 0 ? args[0] : "";
        var rest = args.Skip(1).ToArray();
        try
        {
            return command switch
            {
                "" or "interactive" => Interactive(),
                "analyze" or "analyse" => Analyze(rest),
                "eval" => Evaluate(rest),
                "train" => Train(rest),
                "eval-all" => EvaluateAll(rest),
                "import" => Import.ImportCommand.Run(rest),
                "export" => Export.ExportCommand.Run(rest),
                "stats" => StatsCommand.Run(rest),
                "reclassify" => await Reclassify.ReclassifyCommand.RunAsync(rest),
                "reindex" => Reindex.ReindexCommand.Run(rest),
                "key" => KeyCommand.Run(rest),
                "bench-encoder" => EncoderBench.Run(rest),
                "help" or "--help" or "-h" => Help(),
                _ => Unknown(command),
            };
        }
        catch (IOException exception)
        {
            await Console.Error.WriteLineAsync(exception.Message);
            return 1;
        }
    }

    /// <summary>
    /// The deep classifier unless <c>CLASSIFIER=fast</c> (as for the server). Its encoder starts loading at once, on the
    /// tier's thread, so it is usually ready by the time a message has been typed.
    /// </summary>
    private static Analyzer CreateAnalyzer() =>
        LocalClassifiers.Create(LocalClassifiers.TryChoose(null, out var deep) && deep, new ClassificationCache(1000, TimeSpan.FromHours(1), TimeProvider.System), explain: true);

    private static int Interactive()
    {
        var analyzer = CreateAnalyzer();
        if (Console.IsInputRedirected)
        {
            // Piped input: one message per line, one result per line.
            while (Console.ReadLine() is { } line)
            {
                if (!string.IsNullOrWhiteSpace(line))
                {
                    Console.WriteLine(ResultLine(analyzer.Analyze(line)));
                }
            }

            return 0;
        }

        AnsiConsole.Write(new Rule("[bold]Feedback[/] - local analyser").LeftJustified());
        AnsiConsole.MarkupLine("[grey]Type or paste a customer message and press Enter. An empty line or Ctrl+D quits.[/]");
        AnsiConsole.MarkupLine($"[grey]Classifier: {Markup.Escape(analyzer.LocalVersion)}{(analyzer.Deep is null ? " (lexical model)" : " (sentence encoder all-MiniLM-L6-v2 + lexical model)")}, no network, no API key needed[/]");
        while (true)
        {
            AnsiConsole.WriteLine();
            AnsiConsole.Markup("[bold yellow]>[/] ");
            var line = Console.ReadLine();
            if (string.IsNullOrWhiteSpace(line))
            {
                return 0;
            }

            var started = Stopwatch.GetTimestamp();
            var result = analyzer.Analyze(line);
            Render(result, Stopwatch.GetElapsedTime(started));
        }
    }

    private static int Analyze(string[] args)
    {
        var json = args.Contains("--json");
        var text = string.Join(' ', args.Where(a => a != "--json"));
        if (string.IsNullOrWhiteSpace(text))
        {
            Console.Error.WriteLine("Usage: analyze [--json] TEXT");
            return 2;
        }

        var analyzer = CreateAnalyzer();
        var started = Stopwatch.GetTimestamp();
        var result = analyzer.Analyze(text);
        if (json)
        {
            Console.WriteLine(ResultLine(result));
        }
        else
        {
            Render(result, Stopwatch.GetElapsedTime(started));
        }

        return 0;
    }

    private static int Evaluate(string[] args)
    {
        var options = CommandLine.Parse(args, flags: ["--json", "--corrections"], valued: ["--classifier", "--split", "--provider", "--prompt", "--concurrency"]);
        if (options.Has("--corrections") && options.Positional.Count == 0 && options.Error is null)
        {
            return CorrectionsEvaluation.RunAsync(options.Has("--json"), CancellationToken.None).GetAwaiter().GetResult();
        }

        if (options.Positional.Count != 1 || options.Has("--corrections") || options.Error is not null)
        {
            Console.Error.WriteLine(options.Error ?? "Usage: eval FILE.csv [--json] [--classifier trained|deep|vader] [--split all|heldout|train] [--provider local|ai [--prompt v2] [--concurrency 8]] | eval --corrections [--json]");
            return 2;
        }

        if (!TryClassifier(options.Value("--classifier") ?? "trained", out var classifier) ||
            !TrySplit(options.Value("--split") ?? "all", out var include))
        {
            Console.Error.WriteLine("--classifier is trained, deep or vader; --split is all, heldout or train.");
            return 2;
        }

        var path = options.Positional[0];
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"No such file: {path}");
            return 1;
        }

        if (options.Value("--provider") is { } provider && provider != "local")
        {
            if (provider != "ai" || !int.TryParse(options.Value("--concurrency") ?? "8", System.Globalization.CultureInfo.InvariantCulture, out var concurrency) || concurrency is < 1 or > 64)
            {
                Console.Error.WriteLine("--provider is local or ai; --concurrency is 1 to 64.");
                return 2;
            }

            return AiEvaluation.RunAsync(path, include, options.Value("--prompt") ?? "v2", concurrency, options.Has("--json")).GetAwaiter().GetResult();
        }

        EvaluationReport report;
        try
        {
            report = Evaluator.Evaluate(path, classifier, include, classifier is DeepClassifier ? DeepHeads.Default.Taxonomy : null);
        }
        catch (InvalidDataException exception)
        {
            Console.Error.WriteLine($"{path}: {exception.Message}");
            return 1;
        }

        Console.WriteLine(options.Has("--json") ? report.ToJson() : $"{path} ({classifier.Version})\n{report.ToText()}");
        return 0;
    }

    /// <summary>Where the shipped model lives, relative to the repository root (run.sh runs from there).</summary>
    private const string ModelPath = "src/Feedback.Analysis/Local/Model/local.model";

    private const string DefaultDataDirectory = "../shared/data";

    /// <summary>Written before the local-4 tuning and scored only by eval-all: the check output never shows it, so no setting is chosen by it.</summary>
    private const string HeldOutFixture = "product_feedback_holdout.csv";

    private static int Train(string[] args)
    {
        var options = CommandLine.Parse(args, flags: ["--check", "--errors", "--with-corrections"], valued: ["--data", "--out", "--only", "--in-domain", "--taxonomy", "--shared-per-set", "--shared-weight"]);
        var only = options.Value("--only");
        var sharedPerSet = DeepTraining.SharedPerSet;
        var sharedWeight = DeepTraining.SharedWeight;
        if (options.Positional.Count != 0 || options.Error is not null || only is not (null or "local" or "deep") ||
            (only == "local" && options.Has("--with-corrections")) ||
            (options.Value("--shared-per-set") is { } given && !int.TryParse(given, CultureInfo.InvariantCulture, out sharedPerSet)) ||
            (options.Value("--shared-weight") is { } weight && !double.TryParse(weight, CultureInfo.InvariantCulture, out sharedWeight)))
        {
            Console.Error.WriteLine(options.Error ?? "Usage: train [--data DIR] [--only local|deep] [--in-domain FILE] [--taxonomy FILE] [--shared-per-set N] [--shared-weight W] [--with-corrections] [--check [--errors]]");
            return 2;
        }

        // The taxonomy first: a mistake in it should not cost a training of the lexical model.
        Taxonomy taxonomy;
        try
        {
            taxonomy = Taxonomy.Load(options.Value("--taxonomy") ?? Taxonomy.DefaultPath);
        }
        catch (InvalidDataException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }

        var data = options.Value("--data") ?? DefaultDataDirectory;
        List<LabelledRow> rows = [];
        if (options.Value("--data") is null && only is null && !Directory.Exists(data))
        {
            // A clone without the shared sets: the deep heads (topics, in-domain rows) train from the repository alone.
            Console.WriteLine($"No shared data at {data}: the lexical model stays as shipped; training the deep heads.");
            only = "deep";
        }
        else if (only != "deep" || sharedPerSet > 0)
        {
            try
            {
                rows = TrainingData.Load(data);
            }
            catch (DirectoryNotFoundException exception)
            {
                Console.Error.WriteLine(exception.Message);
                return 1;
            }
        }

        // The lexical model first: the heads read its answers, so they are trained on the one that ships with them.
        var lexical = new LocalClassifier();
        if (only != "deep")
        {
            var result = new ModelTrainer(FeaturePipeline.Default, Console.Out).Train(rows);
            lexical = new LocalClassifier(FeaturePipeline.Default, result.Model);
            if (options.Has("--check") && only == "local")
            {
                // Development: the headline figures of the model just trained, without writing it anywhere.
                Console.Write(AccuracyReport.Headline(data, "tests/Feedback.Analysis.Tests/Fixtures", lexical, new HashSet<string>(StringComparer.Ordinal) { HeldOutFixture }, options.Has("--errors")));
                return 0;
            }

            if (!options.Has("--check"))
            {
                Write(options.Value("--out") ?? ModelPath, result.ModelBytes);
            }
        }

        if (only == "local")
        {
            return 0;
        }

        // Only the deep heads learn from people's labels: the lexical model stays a function of the shared data alone.
        IReadOnlyList<CorrectionRow>? corrections = null;
        if (options.Has("--with-corrections"))
        {
            var (labelled, unknown) = StoredCorrections.ReadAsync(CliStore.Settings(), CancellationToken.None).GetAwaiter().GetResult();
            corrections = labelled;
            Console.WriteLine($"corrections: {labelled.Count:N0} labelled messages in the store{(unknown > 0 ? $", {unknown:N0} with a label this classifier does not know (not trained on)" : "")}");
        }

        var inDomain = options.Value("--in-domain") ?? ProductFeedbackSet.DefaultPath;
        DeepHeads heads;
        try
        {
            heads = DeepTraining.Train(lexical, rows, inDomain, taxonomy, sharedPerSet, sharedWeight, corrections, Console.Out);
        }
        catch (Exception exception) when (exception is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }

        if (options.Has("--check"))
        {
            Console.Write(DeepTraining.Check(new DeepClassifier(lexical, SharedEncoders.Get(new EncoderOptions()), heads), inDomain, data, "tests/Feedback.Analysis.Tests/Fixtures"));
            return 0;
        }

        Write(DeepTraining.ModelPath, heads.ToBytes());
        return 0;
    }

    private static void Write(string path, byte[] bytes)
    {
        File.WriteAllBytes(path, bytes);
        Console.WriteLine($"wrote {path} ({bytes.Length:N0} bytes, SHA-256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))})");
    }

    private static int EvaluateAll(string[] args)
    {
        var options = CommandLine.Parse(args, flags: [], valued: ["--data", "--fixtures", "--in-domain", "--out"]);
        if (options.Positional.Count != 0 || options.Error is not null)
        {
            Console.Error.WriteLine(options.Error ?? "Usage: eval-all [--data DIR] [--fixtures DIR] [--in-domain FILE] [--out FILE]");
            return 2;
        }

        var data = options.Value("--data") ?? DefaultDataDirectory;
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"No data directory at {data} (pass --data DIR).");
            return 1;
        }

        var markdown = AccuracyReport.Build(data, options.Value("--fixtures") ?? "tests/Feedback.Analysis.Tests/Fixtures", options.Value("--in-domain") ?? ProductFeedbackSet.DefaultPath, "./run.sh eval-all --out bench/ACCURACY.md");
        if (options.Value("--out") is { } output)
        {
            File.WriteAllText(output, markdown);
            Console.WriteLine($"wrote {output}");
        }
        else
        {
            Console.Write(markdown);
        }

        return 0;
    }

    internal static bool TryClassifier(string name, out ILocalClassifier classifier)
    {
        classifier = name switch
        {
            "trained" => new LocalClassifier(),
            "vader" or "lexicon" => new LexiconClassifier(),
            "deep" => new DeepClassifier(new LocalClassifier(), SharedEncoders.Get(new EncoderOptions()), DeepHeads.Default),
            _ => null!,
        };
        return classifier is not null;
    }

    internal static bool TrySplit(string name, out Func<string, bool>? include)
    {
        include = name switch
        {
            "heldout" or "held-out" => DataSplit.IsHeldOut,
            "train" => text => !DataSplit.IsHeldOut(text),
            _ => null,
        };
        return include is not null || name == "all";
    }

    private static string ResultLine(AnalysisResult result)
    {
        var c = result.Classification;
        return JsonSerializer.Serialize(new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["sentiment"] = WireNames.Of(c.Sentiment),
            ["topic"] = WireNames.Of(c.Topic),
            ["confidence_score"] = WireNames.Of(c.ConfidenceLevel),
            ["alert_triggered"] = AlertRule.Default.Triggers(result),
            ["processing_method"] = WireNames.Of(result.Method),
            ["confidence"] = Math.Round(c.Confidence, 4),
            ["scores"] = new Dictionary<string, double>(StringComparer.Ordinal)
            {
                ["positive"] = Math.Round(c.Scores.Positive, 4),
                ["negative"] = Math.Round(c.Scores.Negative, 4),
                ["neutral"] = Math.Round(c.Scores.Neutral, 4),
                ["mixed"] = Math.Round(c.Scores.Mixed, 4),
            },
            ["language"] = c.Language,
            ["model"] = result.Model,
            ["warnings"] = result.Warnings,
        });
    }

    private static void Render(AnalysisResult result, TimeSpan elapsed)
    {
        var c = result.Classification;
        var colour = c.Sentiment switch
        {
            Sentiment.Positive => "green",
            Sentiment.Negative => "red",
            Sentiment.Mixed => "orange1",
            _ => "grey",
        };
        var alert = AlertRule.Default.Triggers(result);

        var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
        grid.AddRow(new Markup("[bold]Sentiment[/]"), new Markup($"[bold {colour}]{WireNames.Of(c.Sentiment)}[/]"));
        grid.AddRow(new Markup("[bold]Topic[/]"), new Markup(WireNames.Of(c.Topic)));
        grid.AddRow(
            new Markup("[bold]Confidence[/]"),
            new Markup($"{WireNames.Of(c.ConfidenceLevel)} ({c.Confidence.ToString("0.00", CultureInfo.InvariantCulture)})"));
        grid.AddRow(
            new Markup("[bold]Alert[/]"),
            new Markup(alert ? $"[bold red]yes[/] - {Markup.Escape(AlertRule.Default.Explain(result))}" : Markup.Escape(AlertRule.Default.Explain(result))));
        grid.AddRow(new Markup("[bold]Language[/]"), new Markup(Markup.Escape(c.Language)));
        grid.AddRow(
            new Markup("[bold]Method[/]"),
            new Markup($"{WireNames.Of(result.Method)} ({Markup.Escape(result.Model)}), {elapsed.TotalMicroseconds:0} µs{(result.CacheHit ? ", cached" : "")}"));

        var scores = new BreakdownChart().Width(48)
            .AddItem("positive", Math.Round(c.Scores.Positive * 100, 1), Color.Green)
            .AddItem("negative", Math.Round(c.Scores.Negative * 100, 1), Color.Red)
            .AddItem("neutral", Math.Round(c.Scores.Neutral * 100, 1), Color.Grey)
            .AddItem("mixed", Math.Round(c.Scores.Mixed * 100, 1), Color.Orange1);

        var why = c.Reasons.Count == 0
            ? new Markup("[grey]no strong evidence either way[/]")
            : new Markup(string.Join('\n', c.Reasons.Take(7).Select(r => "• " + Markup.Escape(r))));

        var rows = new List<Spectre.Console.Rendering.IRenderable> { grid, new Text(""), scores, new Text(""), new Markup("[bold]Why[/]"), why };
        rows.AddRange(result.Warnings.Select(w => new Markup($"[yellow]warning:[/] {Markup.Escape(w)}")));
        AnsiConsole.Write(new Panel(new Rows(rows)).Border(BoxBorder.Rounded).BorderColor(Color.Grey));
    }

    private static int Help()
    {
        Console.WriteLine("""
            Usage: feedback [command]
              (none)            interactive analyser (reads one message per line when input is piped)
              analyze [--json] TEXT
                                classify one message
              eval FILE.csv [--json] [--classifier trained|deep|vader] [--split all|heldout|train]
                   [--provider local|ai [--prompt v2] [--concurrency 8]]
                                accuracy, macro-F1, per-class P/R, confusion, ECE and alerts on a labelled CSV;
                                --provider ai scores the configured LLM with one prompt version
              eval --corrections [--json]
                                the stored answers against the labels people set (PUT /feedback/{id}/label):
                                sentiment accuracy, topic macro-F1, alert agreement, labelled count
              eval-all [--data DIR] [--fixtures DIR] [--out FILE]
                                held-out accuracy of both classifiers on every shared set (bench/ACCURACY.md)
              train [--data DIR] [--out FILE] [--with-corrections] [--check [--errors]]
                                retrain the local model from the shared data (default ../shared/data);
                                --with-corrections adds the store's labelled messages to the deep heads' rows
                                (twice an in-domain row; never one whose text is a held-out row);
                                --check prints the new model's headline figures instead of writing it
              import FILE       classify a CSV or JSONL file into the store (idempotent; see 'import --help')
              export            stored messages as CSV or JSONL (--format, --since, --out)
              reclassify        classify stored messages again, keeping history (--since, --until, --method ml|ai, --dry-run)
              reindex           store a sentence vector for every message without one (--chunk N), for similar messages
              stats             counts by sentiment, topic and method, open alerts
              key add NAME [--scopes ingest,read,admin] [--file PATH] | key revoke NAME
                                a named API key: printed once, only its SHA-256 stored
            """);
        return 0;
    }

    private static int Unknown(string command)
    {
        Console.Error.WriteLine($"Unknown command: {command}. Try 'help'.");
        return 2;
    }
}
