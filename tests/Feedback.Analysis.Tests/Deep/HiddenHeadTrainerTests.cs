using Feedback.Analysis.Deep;
using Feedback.Analysis.Deep.Training;
using Shouldly;

namespace Feedback.Analysis.Tests.Deep;

public sealed class HiddenHeadTrainerTests
{
    /// <summary>
    /// Points on a 21 × 21 grid labelled by the sign of x·y (XOR of the quadrants), with the constant 1 last as the heads'
    /// inputs have it: no line separates the classes, so a logistic head stays near chance.
    /// </summary>
    private static HeadRow[] Quadrants() =>
        [.. from i in Enumerable.Range(-10, 21)
            from j in Enumerable.Range(-10, 21)
            where i != 0 && j != 0
            select new HeadRow([i / 10.0, j / 10.0, 1], i * j > 0 ? 1 : 0, 1)];

    private static double Accuracy(float[] weights, int hidden, HeadRow[] rows) =>
        rows.Average(r =>
        {
            Span<double> logits = stackalloc double[2];
            DeepHeads.Logits(weights, hidden, 2, r.Input, logits);
            return (logits[1] > logits[0] ? 1 : 0) == r.Label ? 1.0 : 0;
        });

    [Fact]
    public void A_hidden_layer_learns_what_a_logistic_head_cannot()
    {
        var rows = Quadrants();

        var linear = HeadTrainer.Train(rows, 2, new HeadSettings());
        var hidden = HiddenHeadTrainer.Train(rows, 2, new HiddenSettings(Units: 16, Epochs: 200, L2: 1e-4, LearningRate: 1e-2));

        Accuracy(linear, 0, rows).ShouldBeLessThan(0.7);
        Accuracy(hidden, 16, rows).ShouldBeGreaterThan(0.95);
    }

    [Fact]
    public void A_hidden_layer_trains_to_the_same_bits_every_time_and_its_seed_changes_them()
    {
        var rows = Quadrants();
        var settings = new HiddenSettings(Units: 8, Epochs: 20);

        var first = HiddenHeadTrainer.Train(rows, 2, settings);
        var second = HiddenHeadTrainer.Train(rows, 2, settings);
        var reseeded = HiddenHeadTrainer.Train(rows, 2, settings with { Seed = 19 });

        second.ShouldBe(first);
        reseeded.ShouldNotBe(first);
    }

    [Fact]
    public void With_a_fixed_linear_part_the_hidden_units_start_from_the_logistic_heads_answer()
    {
        // A line separates these (x + y > 0), so the logistic head is right on all of them; the hidden units must not undo it.
        HeadRow[] rows = [.. Quadrants().Select(r => r with { Label = r.Input[0] + r.Input[1] > 0 ? 1 : 0 })];

        var weights = HiddenHeadTrainer.Train(rows, 2, new HiddenSettings(Units: 4, Epochs: 1, LearningRate: 1e-6, Linear: new HeadSettings()));

        // Without the fixed linear part, one step this small from zero weights would leave it near chance.
        Accuracy(weights, 4, rows).ShouldBeGreaterThan(Accuracy(HeadTrainer.Train(rows, 2, new HeadSettings()), 0, rows) - 0.02);
        Accuracy(weights, 4, rows).ShouldBeGreaterThan(0.97);
    }
}
