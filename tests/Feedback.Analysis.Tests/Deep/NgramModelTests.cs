using Feedback.Analysis.Deep;
using Shouldly;

namespace Feedback.Analysis.Tests.Deep;

public sealed class NgramModelTests
{
    private const int Bits = 16;

    [Fact]
    public void Features_ignore_case_and_accents_and_come_out_sorted_and_distinct()
    {
        var accented = NgramModel.Features("Rückerstattung BITTE, Rückerstattung!", Bits);

        accented.ShouldBe(NgramModel.Features("ruckerstattung bitte, ruckerstattung !", Bits));
        accented.ShouldBe(accented.Distinct().Order().ToArray());
        NgramModel.Features("Rückerstattung bitte", Bits).ShouldNotBe(accented, "the '!' and the comma are features of their own");
    }

    [Fact]
    public void Words_seen_only_with_one_class_pull_an_unseen_message_towards_it()
    {
        // Two classes whose rows differ only in their German verbs: the model can only have learnt them from the rows.
        (string Text, int Label)[] rows =
        [
            ("Wir wurden doppelt abgebucht", 0),
            ("Der Betrag wurde zweimal abgebucht", 0),
            ("Bitte erstatten Sie den Betrag", 0),
            ("Die Lieferung kam heute pünktlich an", 1),
            ("Danke, die Lieferung war schnell", 1),
            ("Alles kam heute gut an", 1),
        ];
        var table = NgramModel.Fit([.. rows.Select(r => (NgramModel.Features(r.Text, Bits), r.Label, 1.0))], classes: 2, Bits, alpha: 0.05);

        var charged = NgramModel.LogProbabilities(table, NgramModel.Features("Schon wieder abgebucht, bitte erstatten", Bits));
        var delivered = NgramModel.LogProbabilities(table, NgramModel.Features("Lieferung pünktlich angekommen", Bits));

        charged[0].ShouldBeGreaterThan(charged[1]);
        delivered[1].ShouldBeGreaterThan(delivered[0]);
        charged.ShouldAllBe(p => p >= -7, "log-probabilities are floored so one long message cannot dominate the heads");
    }

    [Fact]
    public void A_message_with_no_feature_in_the_table_gets_even_odds()
    {
        var table = NgramModel.Fit([(NgramModel.Features("refund please", Bits), 0, 1.0), (NgramModel.Features("great app", Bits), 1, 1.0)], classes: 2, Bits, alpha: 0.05);

        var empty = NgramModel.LogProbabilities(table, ReadOnlySpan<int>.Empty);

        empty[0].ShouldBe(empty[1], 1e-12);
    }
}
