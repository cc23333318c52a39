using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Feedback.Analysis;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Model;
using Feedback.Analysis.Local.Training;

namespace Feedback.Cli;

/// <summary>
/// bench/ACCURACY.md: the three local classifiers (VADER-only, the lexical model, the deep one) on the project's own
/// held-out product feedback, every shared set's held-out split and the hand-written fixtures; the issues' headline
/// figures, calibration, speed and memory.
/// </summary>
internal static class AccuracyReport
{
    /// <summary>The six sets whose positive/negative rows the binary-accuracy target averages over.</summary>
    private static readonly string[] BinarySets =
        ["uci_sentiment_sentences", "sst2_dev", "vader_amazon_snippets", "amazon_alexa_reviews", "twitter_us_airline", "se_app_reviews_sentiment"];

    private static readonly string[] MixedSets = ["mams_atsa_sentence", "semeval14_laptops_sentence", "semeval14_restaurants_sentence"];

    private static readonly string[] TopicSets = ["clap_app_reviews", "vu_appstore_reviews"];

    public static string Build(string dataDirectory, string fixtureDirectory, string inDomainPath, string command)
    {
        var deep = new DeepClassifier(new LocalClassifier(), SharedEncoders.Get(new EncoderOptions()), DeepHeads.Default);
        var primed = new PrimedClassifier(deep);
        var classifiers = new (string Name, ILocalClassifier Classifier)[] { ("VADER-only", new LexiconClassifier()), ("trained", new LocalClassifier()), ("deep", primed) };
        var md = new StringBuilder();
        md.Append("# Accuracy of the local classifiers\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Regenerate with `{command}` (the data directory is an argument; it defaults to `../shared/data`).\n");
        md.Append(CultureInfo.InvariantCulture, $"Held-out split: a row is held out when the FNV-1a hash of its UTF-8 text falls in the lowest {DataSplit.HeldOutPercent} of 100 buckets; the model never trains on those rows.\n");
        md.Append(CultureInfo.InvariantCulture, $"Classifiers: VADER-only = `{LexiconClassifier.CurrentVersion}` (lexicon and rules), trained = `{LocalClassifier.CurrentVersion}` (the lexical model, `CLASSIFIER=fast`), deep = `{deep.Version}` (all-MiniLM-L6-v2 with heads trained on `{inDomainPath}` and the examples of `training/taxonomy.json`, the default).\n\n");
        md.Append("Macro-F1 is over every class seen as truth or prediction (as `./run.sh eval` reports it); \"labelled-class\" macro-F1 averages only the classes the set labels.\n\n");

        var rows = TrainingData.Load(dataDirectory).Where(r => r.IsHeldOut).ToList();
        var inDomain = ProductFeedbackSet.Load(inDomainPath).Where(r => r.IsHeldOut).ToList();
        var fixtures = Directory.Exists(fixtureDirectory) ? Directory.GetFiles(fixtureDirectory, "*.csv").Order(StringComparer.Ordinal).ToArray() : [];
        primed.Prime([.. rows.Select(r => r.Text), .. inDomain.Select(r => r.Text), .. fixtures.SelectMany(FixtureTexts)]);
        InDomain(md, inDomain, classifiers);
        var sets = rows.Select(r => r.Set).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var reports = new Dictionary<(string Set, string Classifier), EvaluationReport>();
        foreach (var set in sets)
        {
            foreach (var (name, classifier) in classifiers)
            {
                reports[(set, name)] = Evaluator.Evaluate(Path.Combine(dataDirectory, set, "data.csv"), classifier, DataSplit.IsHeldOut);
            }
        }

        md.Append("## Sentiment, per data set (held-out rows)\n\n");
        md.Append("| data set | rows | VADER-only accuracy | VADER-only macro-F1 | trained accuracy | trained macro-F1 | trained ECE | deep accuracy | deep macro-F1 | deep ECE |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var set in sets.Where(s => reports[(s, "trained")].Sentiment is not null))
        {
            var v = reports[(set, "VADER-only")].Sentiment!;
            var t = reports[(set, "trained")].Sentiment!;
            var d = reports[(set, "deep")].Sentiment!;
            md.Append(CultureInfo.InvariantCulture, $"| {set} | {t.Rows} | {v.Accuracy:0.000} | {v.MacroF1:0.000} | {t.Accuracy:0.000} | {t.MacroF1:0.000} | {t.Ece:0.000} | {d.Accuracy:0.000} | {d.MacroF1:0.000} | {d.Ece:0.000} |\n");
        }

        md.Append("\n## Topic, per data set (held-out rows)\n\n");
        md.Append("| data set | rows | VADER-only accuracy | VADER-only macro-F1 | trained accuracy | trained macro-F1 | trained labelled-class macro-F1 | deep accuracy | deep labelled-class macro-F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var set in sets.Where(s => reports[(s, "trained")].Topic is not null))
        {
            var v = reports[(set, "VADER-only")].Topic!;
            var t = reports[(set, "trained")].Topic!;
            var d = reports[(set, "deep")].Topic!;
            md.Append(CultureInfo.InvariantCulture, $"| {set} | {t.Rows} | {v.Accuracy:0.000} | {v.MacroF1:0.000} | {t.Accuracy:0.000} | {t.MacroF1:0.000} | {LabelledMacroF1(t):0.000} | {d.Accuracy:0.000} | {LabelledMacroF1(d):0.000} |\n");
        }

        md.Append("\n## Headline figures on the shared sets against the issues' targets\n\n| figure | target | VADER-only | trained | deep |\n|---|---|---:|---:|---:|\n");
        foreach (var set in BinarySets)
        {
            md.Append(CultureInfo.InvariantCulture, $"| binary accuracy, {set} | | {Binary(rows, set, classifiers[0].Classifier):0.000} | {Binary(rows, set, classifiers[1].Classifier):0.000} | {Binary(rows, set, classifiers[2].Classifier):0.000} |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"| **binary accuracy, average of the six** | ≥ 0.88 | {BinarySets.Average(s => Binary(rows, s, classifiers[0].Classifier)):0.000} | **{BinarySets.Average(s => Binary(rows, s, classifiers[1].Classifier)):0.000}** | **{BinarySets.Average(s => Binary(rows, s, classifiers[2].Classifier)):0.000}** |\n");
        md.Append(CultureInfo.InvariantCulture, $"| TweetEval 3-class macro-F1 (in parentheses: all-class, `mixed` answers as a fourth class) | ≥ 0.65 | {Macro3(reports, "tweeteval_sentiment_test", "VADER-only")} | **{Macro3(reports, "tweeteval_sentiment_test", "trained")}** | **{Macro3(reports, "tweeteval_sentiment_test", "deep")}** |\n");
        foreach (var set in MixedSets)
        {
            md.Append(CultureInfo.InvariantCulture, $"| mixed recall (precision), {set} | ≥ 0.5 | {Mixed(reports, set, "VADER-only")} | **{Mixed(reports, set, "trained")}** | **{Mixed(reports, set, "deep")}** |\n");
        }

        foreach (var set in TopicSets)
        {
            md.Append(CultureInfo.InvariantCulture, $"| topic macro-F1 (labelled-class), {set} | ≥ 0.70 | {TopicMacro(reports, set, "VADER-only")} | **{TopicMacro(reports, set, "trained")}** | **{TopicMacro(reports, set, "deep")}** |\n");
        }

        md.Append("\nBinary accuracy: positive and negative rows only, the answer being whichever of the positive and negative probabilities is higher (what a two-class model such as siebert/sentiment-roberta-large-english is scored on).\n");

        md.Append("\n## Hand-written product feedback (written by the project, never trained on)\n\n| fixture | rows | classifier | sentiment accuracy | sentiment macro-F1 | topic accuracy | topic macro-F1 |\n|---|---:|---|---:|---:|---:|---:|\n");
        foreach (var fixture in fixtures)
        {
            foreach (var (name, classifier) in classifiers)
            {
                var r = Evaluator.Evaluate(fixture, classifier);
                md.Append(CultureInfo.InvariantCulture, $"| {Path.GetFileName(fixture)} | {r.Rows} | {name} | {r.Sentiment?.Accuracy:0.000} | {r.Sentiment?.MacroF1:0.000} | {r.Topic?.Accuracy:0.000} | {r.Topic?.MacroF1:0.000} |\n");
            }
        }

        md.Append("\n`saas_feedback_check.csv` was written before the `local-3` tuning and scored only after it; the `local-4` tuning then used it together with `product_feedback.csv` and `topic_examples.csv`. `product_feedback_holdout.csv` was written before the `local-4` tuning, is left out of `./run.sh train --check`, and is scored only here: the held-out check of `local-4` and of `local-5`, whose tuning did not look at it either.\n");

        md.Append("\n## Do the confidence levels mean what they say? (held-out rows of every shared set)\n\n| classifier | task | level | rows | right |\n|---|---|---|---:|---:|\n");
        foreach (var (name, classifier) in classifiers.Skip(1))
        foreach (var task in new[] { "sentiment", "topic" })
        {
            var levels = new SortedDictionary<ConfidenceLevel, (int Right, int Count)>();
            foreach (var row in rows.Where(r => task == "sentiment" ? r.Sentiment is not null : r.Topic is not null))
            {
                var c = classifier.Classify(row.Text);
                var confidence = task == "sentiment" ? c.Confidence : c.TopicConfidence ?? c.Confidence;
                var level = confidence > 0.8 ? ConfidenceLevel.High : confidence >= 0.5 ? ConfidenceLevel.Medium : ConfidenceLevel.Low;
                var right = task == "sentiment" ? c.Sentiment == row.Sentiment : c.Topic == row.Topic;
                var (r0, n0) = levels.GetValueOrDefault(level);
                levels[level] = (r0 + (right ? 1 : 0), n0 + 1);
            }

            foreach (var (level, (right, count)) in levels)
            {
                md.Append(CultureInfo.InvariantCulture, $"| {name} | {task} | {WireNames.Of(level)} ({(level == ConfidenceLevel.High ? "> 0.8, target right > 80 %" : level == ConfidenceLevel.Low ? "< 0.5, target right < 50 %" : "0.5-0.8")}) | {count} | {right / (double)count:0.000} |\n");
            }
        }

        var texts = rows.Select(r => r.Text).ToList();
        md.Append("\n## Cost\n\n| classifier | median µs per 150-character message (one at a time) | p99 µs |\n|---|---:|---:|\n");
        foreach (var (name, classifier) in classifiers.Take(2).Append(("deep", deep)))
        {
            var (median, p99) = Speed(classifier, texts);
            md.Append(CultureInfo.InvariantCulture, $"| {name} | {median:0.0} | {p99:0.0} |\n");
        }

        md.Append(CultureInfo.InvariantCulture, $"\nModel weights in memory: {TrainedModel.Default.MemoryBytes / 1024.0 / 1024:0.0} MB (float32, four sentiment and six topic weights per hashed feature plus the clause model); managed heap after loading everything: {HeapMegabytes():0.0} MB. Model file in the repository: {new FileInfo("src/Feedback.Analysis/Local/Model/local.model").Length / 1024.0 / 1024:0.00} MB (gzipped, 16-bit quantised, near-zero weights pruned).\n");
        md.Append(CultureInfo.InvariantCulture, $"Measured on {Environment.ProcessorCount} cores, .NET {Environment.Version}; timing is the median of 2,000 messages after 500 warm-up calls.\n");
        return md.ToString();
    }

    /// <summary>
    /// The headline figures of one classifier on one line per figure, for comparing training settings quickly
    /// (`./run.sh train --check [--errors]`). The fixtures named in <paramref name="skipFixtures"/> are not scored;
    /// <paramref name="listErrors"/> lists each fixture row the classifier gets wrong.
    /// </summary>
    public static string Headline(string dataDirectory, string fixtureDirectory, ILocalClassifier classifier, IReadOnlySet<string> skipFixtures, bool listErrors)
    {
        var rows = TrainingData.Load(dataDirectory).Where(r => r.IsHeldOut).ToList();
        var text = new StringBuilder();
        var binary = BinarySets.Select(s => Binary(rows, s, classifier)).ToList();
        text.Append(CultureInfo.InvariantCulture, $"binary avg {binary.Average():0.000} ({string.Join(' ', binary.Select(b => b.ToString("0.000", CultureInfo.InvariantCulture)))})\n");
        EvaluationReport Held(string set) => Evaluator.Evaluate(Path.Combine(dataDirectory, set, "data.csv"), classifier, DataSplit.IsHeldOut);
        var tweets = Held("tweeteval_sentiment_test").Sentiment!;
        text.Append(CultureInfo.InvariantCulture, $"tweeteval macro-F1 {tweets.MacroF1:0.000} 3-class {LabelledMacroF1(tweets):0.000} acc {tweets.Accuracy:0.000}\n");
        foreach (var set in MixedSets)
        {
            var s = Held(set).Sentiment!;
            var m = s.PerClass.GetValueOrDefault("mixed");
            text.Append(CultureInfo.InvariantCulture, $"mixed {set}: recall {m?.Recall:0.000} precision {m?.Precision:0.000}; acc {s.Accuracy:0.000}\n");
        }

        foreach (var set in TopicSets)
        {
            var t = Held(set).Topic!;
            text.Append(CultureInfo.InvariantCulture, $"topic {set}: labelled macro-F1 {LabelledMacroF1(t):0.000} acc {t.Accuracy:0.000} ECE {t.Ece:0.000}\n");
        }

        foreach (var fixture in Directory.GetFiles(fixtureDirectory, "*.csv").Order(StringComparer.Ordinal))
        {
            if (skipFixtures.Contains(Path.GetFileName(fixture)))
            {
                continue;
            }

            var r = Evaluator.Evaluate(fixture, classifier);
            if (listErrors)
            {
                using var reader = File.OpenText(fixture);
                foreach (var record in CsvReader.ReadRecords(reader).Where(x => x.Length >= 3 && !x[0].StartsWith('#') && x[0] != "text"))
                {
                    var c = classifier.Classify(record[0]);
                    var s = WireNames.Of(c.Sentiment) == record[1] ? "" : $"S {record[1]}->{WireNames.Of(c.Sentiment)}";
                    var t = WireNames.Of(c.Topic) == record[2] ? "" : $"T {record[2]}->{WireNames.Of(c.Topic)}";
                    if (s.Length + t.Length > 0)
                    {
                        text.Append(CultureInfo.InvariantCulture, $"  {s,-28} {t,-32} {c.Confidence:0.00} {record[0][..Math.Min(80, record[0].Length)]}\n");
                    }
                }
            }

            text.Append(CultureInfo.InvariantCulture, $"{Path.GetFileName(fixture)}: sentiment acc {r.Sentiment?.Accuracy:0.000} F1 {r.Sentiment?.MacroF1:0.000}; topic acc {r.Topic?.Accuracy:0.000} F1 {r.Topic?.MacroF1:0.000}\n");
        }

        // Do the confidence levels mean what they say? Over all held-out rows, both tasks.
        foreach (var task in new[] { "sentiment", "topic" })
        {
            var levels = new Dictionary<ConfidenceLevel, (int Right, int Count)>();
            foreach (var row in rows.Where(r => task == "sentiment" ? r.Sentiment is not null : r.Topic is not null))
            {
                var c = classifier.Classify(row.Text);
                var confidence = task == "sentiment" ? c.Confidence : c.TopicConfidence;
                var level = confidence > 0.8 ? ConfidenceLevel.High : confidence >= 0.5 ? ConfidenceLevel.Medium : ConfidenceLevel.Low;
                var right = task == "sentiment" ? c.Sentiment == row.Sentiment : c.Topic == row.Topic;
                var (r0, n0) = levels.GetValueOrDefault(level);
                levels[level] = (r0 + (right ? 1 : 0), n0 + 1);
            }

            text.Append(CultureInfo.InvariantCulture, $"{task} confidence: {string.Join(", ", levels.OrderBy(l => l.Key).Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Key} {l.Value.Right / (double)l.Value.Count:0.000} of {l.Value.Count}")))}\n");
        }

        return text.ToString();
    }

    private static double LabelledMacroF1(LabelMetrics metrics) => metrics.PerClass.Values.Where(c => c.Support > 0).Average(c => c.F1);

    private static string Macro(Dictionary<(string, string), EvaluationReport> reports, string set, string classifier) =>
        reports.TryGetValue((set, classifier), out var r) && r.Sentiment is { } s ? s.MacroF1.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    /// <summary>Macro-F1 over the set's three labelled classes (a `mixed` answer still counts as a miss), then the all-class figure.</summary>
    private static string Macro3(Dictionary<(string, string), EvaluationReport> reports, string set, string classifier) =>
        reports.TryGetValue((set, classifier), out var r) && r.Sentiment is { } s
            ? string.Create(CultureInfo.InvariantCulture, $"{LabelledMacroF1(s):0.000} ({s.MacroF1:0.000})")
            : "n/a";

    private static string TopicMacro(Dictionary<(string, string), EvaluationReport> reports, string set, string classifier) =>
        reports.TryGetValue((set, classifier), out var r) && r.Topic is { } t
            ? string.Create(CultureInfo.InvariantCulture, $"{LabelledMacroF1(t):0.000} (all-class {t.MacroF1:0.000})")
            : "n/a";

    private static string Mixed(Dictionary<(string, string), EvaluationReport> reports, string set, string classifier) =>
        reports.TryGetValue((set, classifier), out var r) && r.Sentiment?.PerClass.GetValueOrDefault("mixed") is { } m
            ? string.Create(CultureInfo.InvariantCulture, $"{m.Recall:0.000} ({m.Precision:0.000})")
            : "n/a";

    private static double Binary(List<LabelledRow> rows, string set, ILocalClassifier classifier)
    {
        var polar = rows.Where(r => r.Set == set && r.Sentiment is Sentiment.Positive or Sentiment.Negative).ToList();
        if (polar.Count == 0)
        {
            return double.NaN;
        }

        return polar.Average(r =>
        {
            var scores = classifier.Classify(r.Text).Scores;
            var predicted = scores.Positive >= scores.Negative ? Sentiment.Positive : Sentiment.Negative;
            return predicted == r.Sentiment ? 1.0 : 0;
        });
    }

    /// <summary>Messages of exactly 150 characters, cut from (and padded with) held-out texts.</summary>
    private static (double Median, double P99) Speed(ILocalClassifier classifier, List<string> texts)
    {
        const int Count = 2000;
        var joined = string.Join(' ', texts.Take(4000));
        var messages = Enumerable.Range(0, Count).Select(i => joined.Substring(i * 151 % (joined.Length - 151), 150)).ToArray();
        foreach (var message in messages.Take(500))
        {
            classifier.Classify(message);
        }

        var elapsed = new double[Count];
        for (var i = 0; i < Count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            classifier.Classify(messages[i]);
            elapsed[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        Array.Sort(elapsed);
        return (elapsed[Count / 2], elapsed[Count * 99 / 100]);
    }

    /// <summary>The project's own held-out product feedback: the figures classifier v2 is held to.</summary>
    internal static void InDomain(StringBuilder md, List<FeedbackExample> rows, (string Name, ILocalClassifier Classifier)[] classifiers)
    {
        md.Append(CultureInfo.InvariantCulture, $"## Hand-written product feedback, held out (`{ProductFeedbackSet.DefaultPath}`, {rows.Count} rows never trained on)\n\n");
        md.Append(CultureInfo.InvariantCulture, $"Alert: the default rule (`ALERT_SENSITIVITY=balanced`: for the deep model the action head's probability that a person must act {AlertRule.Default.ActionThreshold:0.00} or more, for the others the probability of negative or mixed {AlertRule.Default.MinimumProbability:0.00} or more) scored against the `action` label (a person must act). \"High right\": share of answers with confidence above 0.8 that are right.\n\n");
        md.Append("| rows | classifier | sentiment accuracy | sentiment macro-F1 | sentiment ECE | high right (rows) | topic accuracy | topic macro-F1 | topic ECE | alert F1 | alert precision | alert recall |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var (label, subset) in new[] { ("all", rows), ("not English", rows.Where(r => r.Language != "en").ToList()) })
        {
            foreach (var (name, classifier) in classifiers)
            {
                var answers = subset.Select(r => classifier.Classify(r.Text)).ToList();
                var sentiments = subset.Select((r, i) => new Evaluator.Outcome<Sentiment>(r.Sentiment, answers[i].Sentiment, answers[i].Confidence)).ToList();
                var topics = subset.Select((r, i) => new Evaluator.Outcome<Topic>(r.Topic, answers[i].Topic, answers[i].TopicConfidence)).ToList();
                var alerts = Evaluator.Alerts([.. subset.Select((r, i) => (r.Action, AlertRule.Default.Alarms(answers[i])))]);
                var s = Evaluator.Score(sentiments, WireNames.Of);
                var t = Evaluator.Score(topics, WireNames.Of);
                var high = sentiments.Where(o => o.Confidence > 0.8).ToList();
                var highRight = high.Count == 0 ? 0 : high.Count(o => o.Truth == o.Predicted) / (double)high.Count;
                md.Append(CultureInfo.InvariantCulture, $"| {label} ({subset.Count}) | {name} | {s.Accuracy:0.000} | {s.MacroF1:0.000} | {s.Ece:0.000} | {highRight:0.000} ({high.Count}) | {t.Accuracy:0.000} | {t.MacroF1:0.000} | {t.Ece:0.000} | {alerts.F1:0.000} | {alerts.Precision:0.000} | {alerts.Recall:0.000} |\n");
            }
        }

        md.Append('\n');
        md.Append("Alert sensitivity (`ALERT_SENSITIVITY`): the three operating points on the same rows, and the older rule (`ALERT_MIN_CONFIDENCE=medium`: the most probable sentiment is negative or mixed with confidence 0.5 or more). The deep model's answers carry the action head's probability, which the sensitivities read; its thresholds were read off the head's out-of-fold answers for the training rows (`./run.sh train` prints the curve), never off these rows. For the deep model the sentiment rule's points are shown too (what a custom `ALERT_SENTIMENTS` keeps); the sentiment thresholds were read off earlier held-out rows, so those figures flatter them a little.\n\n");
        md.Append("| classifier | rule | alerts when | alert precision | alert recall | alert F1 | alerts raised |\n|---|---|---|---:|---:|---:|---:|\n");
        foreach (var (name, classifier) in classifiers)
        {
            var answers = rows.Select(r => classifier.Classify(r.Text)).ToList();
            var older = AlertRule.Default with { MinimumConfidence = ConfidenceLevel.Medium };
            var sensitivities = new[] { AlertSensitivity.Recall, AlertSensitivity.Balanced, AlertSensitivity.Precision };
            var withAction = answers.Any(a => a.ActionProbability is not null);
            var rules = sensitivities.Select(s => ($"`{AlertRule.NameOf(s)}`", AlertRule.For(s), withAction)).ToList();
            if (withAction)
            {
                rules.AddRange(sensitivities.Select(s => ($"`{AlertRule.NameOf(s)}`, sentiment rule", AlertRule.For(s), false)));
            }

            rules.Add(("older rule", older, false));
            foreach (var (label, rule, action) in rules)
            {
                var judged = action ? answers : answers.Select(a => a with { ActionProbability = null }).ToList();
                var predicted = judged.Select(rule.Alarms).ToList();
                var alerts = Evaluator.Alerts([.. rows.Select((r, i) => (r.Action, predicted[i]))]);
                var when = rule.MinimumConfidence is not null ? "top sentiment negative or mixed, confidence ≥ 0.50"
                    : action ? $"P(a person must act) ≥ {rule.ActionThreshold:0.00}"
                    : $"P(negative or mixed) ≥ {rule.MinimumProbability:0.00}";
                md.Append(CultureInfo.InvariantCulture, $"| {name} | {label} | {when} | {alerts.Precision:0.000} | {alerts.Recall:0.000} | {alerts.F1:0.000} | {predicted.Count(p => p)} of {rows.Count} |\n");
            }
        }

        md.Append('\n');
    }

    private static IEnumerable<string> FixtureTexts(string path)
    {
        using var reader = File.OpenText(path);
        foreach (var record in CsvReader.ReadRecords(reader).SkipWhile(r => r.Length == 0 || r[0] != "text").Skip(1))
        {
            yield return record[0];
        }
    }

    private static double HeapMegabytes() => GC.GetTotalMemory(forceFullCollection: true) / 1024.0 / 1024;
}
