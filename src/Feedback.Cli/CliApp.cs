using System.CommandLine;
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
    /// <summary>The clock every command reads "now" from, as the server reads its injected one.</summary>
    public static TimeProvider Time { get; } = TimeProvider.System;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR")))
        {
            // https://no-color.org: Spectre.Console looks for it too; said here so no later profile change undoes it.
            AnsiConsole.Profile.Capabilities.ColorSystem = ColorSystem.NoColors;
        }

        try
        {
            // "help" as a command, as run.sh and the old usage text spelled it.
            return await CommandLine.RunAsync(Root(), args is ["help"] ? ["--help"] : args);
        }
        catch (IOException exception)
        {
            await Console.Error.WriteLineAsync(exception.Message);
            return CommandLine.Failure;
        }
    }

    /// <summary>Every command, with its options; without one, the interactive analyser.</summary>
    internal static RootCommand Root()
    {
        var root = new RootCommand("Feedback: customer-feedback analysis on the local classifier (sentiment, topic, confidence, alerts).")
        {
            AnalyzeCommand(),
            EvalCommand(),
            EvalAllCommand(),
            TrainCommand(),
            Import.ImportCommand.Definition(),
            Export.ExportCommand.Definition(),
            Reclassify.ReclassifyCommand.Definition(),
            Reindex.ReindexCommand.Definition(),
            Themes.ThemesCommand.Definition(),
            StatsCommand.Definition(),
            ForgetCommand.Definition(),
            RollupsCommand.Definition(),
            KeyCommand.Definition(),
            EncoderBench.Definition(),
            SimilarityBench.Definition(),
            ThemesBench.Definition(),
            GroupingBench.Definition(),
        };
        var interactive = new Command("interactive", "The interactive analyser (the same as no command).") { Hidden = true };
        interactive.SetAction(_ => Interactive());
        root.Add(interactive);
        root.SetAction(_ => Interactive());
        return root.WithExamples(
            "./run.sh                                  type messages, see how each is classified and why",
            "echo 'The app crashes on login' | ./run.sh   one result line (JSON) per input line",
            "./run.sh analyze --json \"Refund me now\"",
            "./run.sh import feedback.csv --id-column id",
            "./run.sh stats --json",
            "./run.sh COMMAND --help                   each command's options and examples");
    }

    /// <summary>
    /// The deep classifier unless <c>CLASSIFIER=fast</c> (as for the server). Its encoder starts loading at once, on the
    /// tier's thread, so it is usually ready by the time a message has been typed.
    /// </summary>
    private static Analyzer CreateAnalyzer() =>
        LocalClassifiers.Create(LocalClassifiers.TryChoose(null, out var deep) && deep, new ClassificationCache(1000, TimeSpan.FromHours(1), Time), explain: true);

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

    private static Command AnalyzeCommand()
    {
        var text = new Argument<string[]>("text") { Description = "The message (several words are joined with spaces); - reads it from standard input.", Arity = ArgumentArity.OneOrMore };
        var json = new Option<bool>("--json") { Description = "One JSON object (the API's field names) instead of the panel." };
        var command = new Command("analyze", "Classify one message and print the result.") { text, json };
        command.Aliases.Add("analyse");
        command.SetAction(parsed => Analyze(parsed.GetValue(text)!, parsed.GetValue(json)));
        return command.WithExamples(
            "./run.sh analyze \"The new export is great but it crashes on large files\"",
            "./run.sh analyze --json \"Refund me now\"",
            "cat complaint.txt | ./run.sh analyze --json -",
            "./run.sh analyze -- \"-1 stars, would not buy again\"   (-- before a message that starts with -)");
    }

    private static int Analyze(string[] words, bool json)
    {
        var text = words is ["-"] ? Console.In.ReadToEnd() : string.Join(' ', words);
        if (string.IsNullOrWhiteSpace(text))
        {
            Console.Error.WriteLine(words is ["-"] ? "Standard input held no message." : "The message is empty.");
            return CommandLine.Usage;
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

        return CommandLine.Ok;
    }

    private static Command EvalCommand()
    {
        var file = new Argument<string?>("file") { Description = "A labelled CSV (text, sentiment and topic columns; any delimiter).", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "The report as JSON." };
        var corrections = new Option<bool>("--corrections") { Description = "Score the stored answers against the labels people set (PUT /feedback/{id}/label) instead of a file." };
        var classifier = CommandLine.OneOf("--classifier", "The local classifier to score.", "trained", "trained", "deep", "vader", "lexicon");
        var split = CommandLine.OneOf("--split", "The rows to score: all, the held-out split or the training split.", "all", "all", "heldout", "held-out", "train");
        var provider = CommandLine.OneOf("--provider", "local: the classifier above; ai: the configured LLM (OPENAI_*).", "local", "local", "ai");
        var prompt = new Option<string>("--prompt") { Description = "With --provider ai: the prompt version.", DefaultValueFactory = _ => "v2" };
        var concurrency = new Option<int>("--concurrency") { Description = "With --provider ai: LLM calls in flight (1 to 64).", DefaultValueFactory = _ => 8 };
        var delimiter = CommandLine.Delimiter("The CSV's delimiter (default: detected from the header among , ; \\t |).");
        var command = new Command("eval", "Accuracy, macro-F1, per-class precision/recall, confusion, ECE and alerts on a labelled CSV.")
        {
            file, json, corrections, classifier, split, provider, prompt, concurrency, delimiter,
        };
        command.SetAction(parsed => Evaluate(
            parsed.GetValue(file), parsed.GetValue(json), parsed.GetValue(corrections), parsed.GetValue(classifier)!, parsed.GetValue(split)!,
            parsed.GetValue(provider)!, parsed.GetValue(prompt)!, parsed.GetValue(concurrency), parsed.GetValue(delimiter)));
        return command.WithExamples(
            "./run.sh eval tests/Feedback.Analysis.Tests/Fixtures/product_feedback_holdout.csv",
            "./run.sh eval data.csv --classifier deep --split heldout --json",
            "./run.sh eval data.csv --provider ai --prompt v2 --concurrency 8",
            "./run.sh eval --corrections --json");
    }

    private static int Evaluate(string? path, bool json, bool corrections, string classifierName, string split, string provider, string prompt, int concurrency, char? delimiter)
    {
        if (corrections && path is null)
        {
            return CorrectionsEvaluation.RunAsync(json, CancellationToken.None).GetAwaiter().GetResult();
        }

        if (path is null || corrections)
        {
            Console.Error.WriteLine("eval takes either FILE.csv or --corrections. See 'eval --help'.");
            return CommandLine.Usage;
        }

        if (!TryClassifier(classifierName, out var classifier) || !TrySplit(split, out var include))
        {
            Console.Error.WriteLine("--classifier is trained, deep or vader; --split is all, heldout or train.");
            return CommandLine.Usage;
        }

        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"No such file: {path}");
            return CommandLine.Failure;
        }

        if (provider == "ai")
        {
            if (concurrency is < 1 or > 64)
            {
                Console.Error.WriteLine("--concurrency is 1 to 64.");
                return CommandLine.Usage;
            }

            return AiEvaluation.RunAsync(path, include, prompt, concurrency, json).GetAwaiter().GetResult();
        }

        EvaluationReport report;
        try
        {
            report = Evaluator.Evaluate(path, classifier, include, classifier is DeepClassifier ? DeepHeads.Default.Taxonomy : null, delimiter);
        }
        catch (InvalidDataException exception)
        {
            Console.Error.WriteLine($"{path}: {exception.Message}");
            return 1;
        }

        Console.WriteLine(json ? report.ToJson() : $"{path} ({classifier.Version})\n{report.ToText()}");
        return CommandLine.Ok;
    }

    /// <summary>Where the shipped model lives, relative to the repository root (run.sh runs from there).</summary>
    private const string ModelPath = "src/Feedback.Analysis/Local/Model/local.model";

    private const string DefaultDataDirectory = "../shared/data";

    /// <summary>Written before the local-4 tuning and scored only by eval-all: the check output never shows it, so no setting is chosen by it.</summary>
    private const string HeldOutFixture = "product_feedback_holdout.csv";

    private static Command TrainCommand()
    {
        var data = new Option<string?>("--data") { Description = $"The shared data sets (default {DefaultDataDirectory}).", HelpName = "dir" };
        var output = new Option<string?>("--out") { Description = $"Where the lexical model goes (default {ModelPath}).", HelpName = "file" };
        var only = CommandLine.OneOf("--only", "Train only the lexical model or only the deep heads.", null, "local", "deep");
        var inDomain = new Option<string?>("--in-domain") { Description = "The in-domain labelled rows for the deep heads.", HelpName = "file" };
        var taxonomy = new Option<string?>("--taxonomy") { Description = "The topic taxonomy (default: the shipped one).", HelpName = "file" };
        var sharedPerSet = new Option<int>("--shared-per-set") { Description = "Shared-set rows per set the deep heads learn from.", DefaultValueFactory = _ => DeepTraining.SharedPerSet };
        var sharedWeight = new Option<double>("--shared-weight") { Description = "The weight of a shared-set row against an in-domain one.", DefaultValueFactory = _ => DeepTraining.SharedWeight };
        var withCorrections = new Option<bool>("--with-corrections") { Description = "The deep heads also learn from the store's labelled messages (twice an in-domain row; never a held-out text)." };
        var check = new Option<bool>("--check") { Description = "Print the new model's headline figures instead of writing it." };
        var errors = new Option<bool>("--errors") { Description = "With --check --only local: list the misclassified rows too." };
        var command = new Command("train", "Rebuild the trained model bit for bit from the shared data.")
        {
            data, output, only, inDomain, taxonomy, sharedPerSet, sharedWeight, withCorrections, check, errors,
        };
        command.SetAction(parsed => Train(new TrainOptions(
            parsed.GetValue(data), parsed.GetValue(output), parsed.GetValue(only), parsed.GetValue(inDomain), parsed.GetValue(taxonomy),
            parsed.GetValue(sharedPerSet), parsed.GetValue(sharedWeight), parsed.GetValue(withCorrections), parsed.GetValue(check), parsed.GetValue(errors))));
        return command.WithExamples(
            "./run.sh train",
            "./run.sh train --only local --check --errors",
            "./run.sh train --with-corrections");
    }

    private sealed record TrainOptions(
        string? Data, string? Out, string? Only, string? InDomain, string? Taxonomy, int SharedPerSet, double SharedWeight, bool WithCorrections, bool Check, bool Errors);

    private static int Train(TrainOptions options)
    {
        var only = options.Only;
        if (only == "local" && options.WithCorrections)
        {
            Console.Error.WriteLine("--with-corrections trains the deep heads: it does not go with --only local.");
            return CommandLine.Usage;
        }

        // The taxonomy first: a mistake in it should not cost a training of the lexical model.
        Taxonomy taxonomy;
        try
        {
            taxonomy = Taxonomy.Load(options.Taxonomy ?? Taxonomy.DefaultPath);
        }
        catch (InvalidDataException exception)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }

        var data = options.Data ?? DefaultDataDirectory;
        List<LabelledRow> rows = [];
        if (options.Data is null && only != "local" && !Directory.Exists(data))
        {
            // A clone without the shared sets: the deep heads (topics, in-domain rows) train from the repository alone.
            Console.WriteLine(
                $"No shared data at {data}: the lexical model stays as shipped; training the deep heads on the repository's rows alone " +
                $"(the shipped heads also learnt from {DeepTraining.SharedPerSet} rows of each shared set).");
            only = "deep";
        }
        else if (only != "deep" || options.SharedPerSet > 0)
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
            if (options.Check && only == "local")
            {
                // Development: the headline figures of the model just trained, without writing it anywhere.
                Console.Write(AccuracyReport.Headline(data, "tests/Feedback.Analysis.Tests/Fixtures", lexical, new HashSet<string>(StringComparer.Ordinal) { HeldOutFixture }, options.Errors));
                return 0;
            }

            if (!options.Check)
            {
                Write(options.Out ?? ModelPath, result.ModelBytes);
            }
        }

        if (only == "local")
        {
            return 0;
        }

        // Only the deep heads learn from people's labels: the lexical model stays a function of the shared data alone.
        IReadOnlyList<CorrectionRow>? corrections = null;
        if (options.WithCorrections)
        {
            var (labelled, unknown) = StoredCorrections.ReadAsync(CliStore.Settings(), CancellationToken.None).GetAwaiter().GetResult();
            corrections = labelled;
            Console.WriteLine($"corrections: {labelled.Count:N0} labelled messages in the store{(unknown > 0 ? $", {unknown:N0} with a label this classifier does not know (not trained on)" : "")}");
        }

        var inDomain = options.InDomain ?? ProductFeedbackSet.DefaultPath;
        DeepHeads heads;
        try
        {
            heads = DeepTraining.Train(lexical, rows, inDomain, taxonomy, options.SharedPerSet, options.SharedWeight, corrections, Console.Out);
        }
        catch (Exception exception) when (exception is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine(exception.Message);
            return 1;
        }

        if (options.Check)
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

    private static Command EvalAllCommand()
    {
        var data = new Option<string>("--data") { Description = "The shared data sets.", HelpName = "dir", DefaultValueFactory = _ => DefaultDataDirectory };
        var fixtures = new Option<string>("--fixtures") { Description = "The test fixtures scored beside them.", HelpName = "dir", DefaultValueFactory = _ => "tests/Feedback.Analysis.Tests/Fixtures" };
        var inDomain = new Option<string>("--in-domain") { Description = "The in-domain labelled set.", HelpName = "file", DefaultValueFactory = _ => ProductFeedbackSet.DefaultPath };
        var output = new Option<string?>("--out") { Description = "Write the Markdown report to a file instead of standard output.", HelpName = "file" };
        var command = new Command("eval-all", "Held-out accuracy of both classifiers on every shared set (bench/ACCURACY.md).") { data, fixtures, inDomain, output };
        command.SetAction(parsed => EvaluateAll(parsed.GetValue(data)!, parsed.GetValue(fixtures)!, parsed.GetValue(inDomain)!, parsed.GetValue(output)));
        return command.WithExamples("./run.sh eval-all --out bench/ACCURACY.md");
    }

    private static int EvaluateAll(string data, string fixtures, string inDomain, string? output)
    {
        if (!Directory.Exists(data))
        {
            Console.Error.WriteLine($"No data directory at {data} (pass --data DIR).");
            return 1;
        }

        var markdown = AccuracyReport.Build(data, fixtures, inDomain, "./run.sh eval-all --out bench/ACCURACY.md");
        if (output is not null)
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
}
