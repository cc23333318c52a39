using System.Globalization;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Feedback.Analysis.Evaluation;
using Feedback.Analysis.Local;
using Feedback.Analysis.Local.Training;
using Shouldly;

namespace Feedback.Analysis.Tests.Deep;

public sealed class DeepTrainingTests
{
    private static readonly string TrainingSet = Path.Combine(AppContext.BaseDirectory, "Training", "product_feedback_v2.csv");
    private static readonly string TaxonomyFile = Path.Combine(AppContext.BaseDirectory, "Training", "taxonomy.json");

    [Fact]
    public void The_project_training_set_is_balanced_over_the_grid_and_labelled_by_the_contract()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet);

        rows.Count.ShouldBeGreaterThanOrEqualTo(2000);
        var cells = rows.GroupBy(r => (r.Sentiment, r.Topic)).ToList();
        cells.Count.ShouldBe(24);
        cells.Min(c => c.Count()).ShouldBeGreaterThan(cells.Max(c => c.Count()) * 9 / 10);
        rows.Count(r => r.Language != "en").ShouldBeGreaterThanOrEqualTo(rows.Count / 10);
        rows.Select(r => r.Language).Distinct().Order(StringComparer.Ordinal).ShouldBe(["de", "en", "es", "fr", "it", "nl", "pt"]);
        rows.Select(r => r.Channel).Distinct().Count().ShouldBe(6);
    }

    [Fact]
    public void Every_action_label_is_the_majority_of_the_rows_three_blind_readings()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet);
        var readings = new Dictionary<string, string[]>(StringComparer.Ordinal);
        using (var reader = File.OpenText(Path.Combine(AppContext.BaseDirectory, "Training", "product_feedback_v2.readings.csv")))
        {
            var records = CsvReader.ReadRecords(reader).ToList();
            var actions = records[0].Select((name, i) => (name, i)).Where(c => c.name.StartsWith("action_", StringComparison.Ordinal)).Select(c => c.i).ToArray();
            actions.Length.ShouldBe(3);
            foreach (var record in records.Skip(1))
            {
                readings.Add(record[0], [.. actions.Select(i => record[i])]);
            }
        }

        readings.Count.ShouldBe(rows.Count);
        var disagreeing = new List<string>();
        foreach (var row in rows)
        {
            readings.TryGetValue(DataSplit.Hash(row.Text).ToString("x16", CultureInfo.InvariantCulture), out var read).ShouldBeTrue($"no readings for \"{row.Text[..Math.Min(60, row.Text.Length)]}\"");
            var yes = read!.Count(a => a == "yes");
            if (yes >= 2 != row.Action)
            {
                disagreeing.Add(row.Text);
            }
        }

        disagreeing.ShouldBeEmpty();
    }

    [Fact]
    public void Training_the_heads_twice_on_the_same_rows_gives_the_same_bytes()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((_, i) => i % 40 == 0).ToList();

        var first = Train(rows);
        var second = Train(rows);

        first.ToBytes().ShouldBe(second.ToBytes());
    }

    [Fact]
    public void Heads_with_hidden_units_train_to_the_same_bytes_and_read_back_as_they_were_written()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((_, i) => i % 40 == 0).ToList();
        var hidden = new HiddenSettings(Units: 8, Epochs: 3);
        DeepHeads TrainHidden() =>
            new DeepTrainer(new LocalClassifier(), () => SharedEncoder.Instance, new EmbeddingCache(path: null))
                .Train(rows, [], new DeepTrainingOptions("deep-test", Taxonomy.BuiltIn, Topic: new HeadSettings(Iterations: 100), SentimentHidden: hidden, ActionHidden: hidden, Folds: 2));

        var first = TrainHidden();
        var second = TrainHidden();
        var read = DeepHeads.Read(new MemoryStream(first.ToBytes()));

        (first.SentimentHidden, first.ActionHidden).ShouldBe((8, 8));
        second.ToBytes().ShouldBe(first.ToBytes());
        read.ToBytes().ShouldBe(first.ToBytes());
        var classifier = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, first);
        var again = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, read);
        const string Text = "the app crashes every time I open the invoice, please fix it";
        again.ClassifyWithoutReasons(Text).Scores.ShouldBe(classifier.ClassifyWithoutReasons(Text).Scores);
        again.ClassifyWithoutReasons(Text).ActionProbability.ShouldBe(classifier.ClassifyWithoutReasons(Text).ActionProbability);
    }

    [Fact]
    public void Heads_trained_on_labelled_messages_answer_their_labels_on_unseen_ones()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet);
        var heads = Train([.. rows.Where((r, i) => !r.IsHeldOut && i % 4 == 0)]);
        var classifier = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, heads);
        var unseen = rows.Where(r => r.IsHeldOut && r.Language == "en").Take(200).ToList();

        var answers = classifier.ClassifyMany([.. unseen.Select(r => TextRules.Normalise(r.Text))], explain: false);

        // Far above chance (1/4 and 1/6): the heads learn from the encoder, not from the row order.
        answers.Where((a, i) => a.Sentiment == unseen[i].Sentiment).Count().ShouldBeGreaterThan(unseen.Count / 2);
        answers.Where((a, i) => a.Topic == unseen[i].Topic).Count().ShouldBeGreaterThan(unseen.Count * 6 / 10);
    }

    [Fact]
    public void The_action_head_learns_the_action_label_bit_for_bit_and_tells_unseen_messages_apart()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet);
        var training = rows.Where((r, i) => !r.IsHeldOut && i % 4 == 0).ToList();
        var flipped = training.Select(r => r with { Action = !r.Action }).ToList();

        var heads = Train(training);
        var again = Train(training);
        var inverted = Train(flipped);

        again.ToBytes().ShouldBe(heads.ToBytes());
        inverted.ToBytes().ShouldNotBe(heads.ToBytes(), "the action label is what the action head learns from");
        var unseen = rows.Where(r => r.IsHeldOut && r.Language == "en").Take(200).ToList();
        var texts = unseen.Select(r => TextRules.Normalise(r.Text)).ToList();
        var answers = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, heads).ClassifyMany(texts, explain: false);
        var invertedAnswers = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, inverted).ClassifyMany(texts, explain: false);

        answers.ShouldAllBe(a => a.ActionProbability >= 0 && a.ActionProbability <= 1);
        // Saying "no" to everything would be right for about six in ten of these.
        var right = answers.Where((a, i) => a.ActionProbability >= 0.5 == unseen[i].Action).Count();
        right.ShouldBeGreaterThan(unseen.Count * 3 / 4);
        invertedAnswers.Where((a, i) => a.ActionProbability >= 0.5 == unseen[i].Action).Count().ShouldBeLessThan(unseen.Count / 3);
    }

    [Fact]
    public void Corrections_join_the_training_at_twice_an_in_domain_row_unless_their_text_is_a_held_out_row()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet);
        var heldOut = rows.First(r => r.IsHeldOut);
        const string New = "We were billed twice this month and nobody answers our emails.";

        // The held-out text comes back with other spacing, as a message pasted into the service would.
        var (train, left) = CorrectionExample.ForTraining(
            [(New, Sentiment.Negative, Topic.Billing), ("  " + heldOut.Text.Replace(" ", "  ", StringComparison.Ordinal) + "\n", heldOut.Sentiment, heldOut.Topic)],
            rows.Where(r => r.IsHeldOut).Select(r => r.Text));

        train.ShouldBe([new CorrectionExample(New, Sentiment.Negative, Topic.Billing, 2)]);
        left.ShouldBe(1);
    }

    [Fact]
    public void Corrections_given_to_the_trainer_change_the_heads_it_trains()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((_, i) => i % 40 == 0).ToList();
        CorrectionExample[] corrections =
        [
            new("The invoice shows a charge for a plan we cancelled in March.", Sentiment.Negative, Topic.Billing, CorrectionExample.DefaultWeight),
            new("Loading the dashboard takes a full minute every morning.", Sentiment.Negative, Topic.Performance, CorrectionExample.DefaultWeight),
        ];

        var without = Train(rows);
        var with = Train(rows, corrections: corrections);
        var again = Train(rows, corrections: corrections);

        with.ToBytes().ShouldNotBe(without.ToBytes());
        again.ToBytes().ShouldBe(with.ToBytes());
    }

    [Fact]
    public void A_heads_file_reads_back_as_it_was_written()
    {
        var heads = DeepHeads.Default;

        var read = DeepHeads.Read(new MemoryStream(heads.ToBytes()));

        read.Version.ShouldBe(heads.Version);
        read.ToBytes().ShouldBe(heads.ToBytes());
    }

    [Fact]
    public void The_shipped_heads_explain_a_deep_answer_and_keep_the_lexical_evidence()
    {
        var classifier = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, DeepHeads.Default);

        var answer = classifier.Classify("The app crashes every time I open the settings page.");

        answer.Reasons[0].ShouldStartWith($"{DeepHeads.Default.Version}: ");
        answer.Reasons.ShouldContain(r => r.StartsWith("words: ", StringComparison.Ordinal));
        answer.TopicScores!.Values.Sum().ShouldBe(1, 1e-9);
        answer.TopicScores.Topics.ShouldBe(DeepHeads.Default.Taxonomy.Topics);
        (answer.Scores.Positive + answer.Scores.Negative + answer.Scores.Neutral + answer.Scores.Mixed).ShouldBe(1, 1e-9);
    }

    [Fact]
    public void The_shipped_heads_carry_the_taxonomy_file_they_were_trained_on()
    {
        var file = Taxonomy.Load(TaxonomyFile);

        DeepHeads.Default.Taxonomy.Topics.ShouldBe(file.Topics);
        DeepHeads.Default.Taxonomy.Definitions.Select(d => d.Description).ShouldBe(file.Definitions.Select(d => d.Description));
        file.Topics.ShouldBe(Topic.BuiltIn);
        file.Fingerprint().ShouldBe(Taxonomy.ShippedFingerprint, "the shipped heads are named for the shipped file: update Taxonomy.ShippedFingerprint with it");
        DeepHeads.Default.Version.ShouldBe("deep-6");
    }

    [Fact]
    public void A_topic_added_to_the_taxonomy_file_with_examples_becomes_an_answer()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((r, i) => !r.IsHeldOut && i % 4 == 0).ToList();
        var shipping = new TopicDefinition(new Topic("shipping"), "parcels, delivery and couriers", [], [
            "My parcel has been stuck in transit for eight days.",
            "The courier left the box in the rain outside my door.",
            "Tracking number doesn't work, where is my order?",
            "Delivery was promised for Tuesday and nothing came.",
            "The package arrived crushed and the contents broken.",
            "Can you ship to Norway? Checkout says the address is not supported.",
            "Two weeks and my order still says 'preparing for dispatch'.",
            "The driver marked it delivered but I never got anything.",
            "Express shipping cost extra and still took a week.",
            "Wrong address on the shipping label even though my profile is right.",
            "Paket ist seit zehn Tagen unterwegs, keine Sendungsverfolgung.",
            "Mi pedido nunca llegó y el seguimiento no se actualiza.",
        ]);
        var taxonomy = new Taxonomy([.. Taxonomy.BuiltIn.Definitions, shipping], Topic.General);
        const string Message = "Ordered three weeks ago and the box still hasn't been delivered, the tracking page shows nothing.";

        var before = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, Train(rows)).Classify(Message);
        var after = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, Train(rows, taxonomy)).Classify(Message);

        before.Topic.ShouldNotBe(shipping.Topic);
        after.Topic.ShouldBe(shipping.Topic);
        after.TopicScores!.Topics.ShouldBe(taxonomy.Topics);
        new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, Train(rows, taxonomy)).Classify("The app crashes every time I open the settings page.").Topic.ShouldBe(Topic.Bug);
    }

    [Fact]
    public void A_renamed_topic_keeps_the_labelled_rows_of_the_one_it_includes()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((r, i) => !r.IsHeldOut && i % 4 == 0).ToList();
        var design = new TopicDefinition(new Topic("design"), "how the product looks and how easy it is to use", [Topic.Ux], []);
        var taxonomy = new Taxonomy([.. Taxonomy.BuiltIn.Definitions.Where(d => d.Topic != Topic.Ux), design], Topic.General);

        var answer = new DeepClassifier(new LocalClassifier(), SharedEncoder.Lazy, Train(rows, taxonomy))
            .Classify("The settings are buried three menus deep and the icons have no labels, so confusing.");

        answer.Topic.ShouldBe(design.Topic);
    }

    [Fact]
    public void A_topic_with_neither_rows_nor_examples_is_refused_with_its_name()
    {
        var rows = ProductFeedbackSet.Load(TrainingSet).Where((r, i) => !r.IsHeldOut && i % 8 == 0).ToList();
        var taxonomy = new Taxonomy([.. Taxonomy.BuiltIn.Definitions, new TopicDefinition(new Topic("shipping"), "", [], [])], Topic.General);

        Should.Throw<InvalidDataException>(() => Train(rows, taxonomy)).Message.ShouldContain("shipping");
    }

    private static DeepHeads Train(List<FeedbackExample> rows, Taxonomy? taxonomy = null, IReadOnlyList<CorrectionExample>? corrections = null) =>
        new DeepTrainer(new LocalClassifier(), () => SharedEncoder.Instance, new EmbeddingCache(path: null))
            .Train(rows, [], new DeepTrainingOptions("deep-test", taxonomy ?? Taxonomy.BuiltIn, Sentiment: new HeadSettings(Iterations: 100), Topic: new HeadSettings(Iterations: 100), Action: new HeadSettings(Iterations: 100), Folds: 2), corrections);
}
