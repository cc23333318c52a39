namespace Feedback.Analysis.Deep.Training;

/// <summary>A message a person labelled in the service (PUT /feedback/{id}/label), as an extra in-domain training row.</summary>
/// <param name="Weight">What it weighs against one hand-written in-domain row.</param>
internal sealed record CorrectionExample(string Text, Sentiment Sentiment, Topic Topic, double Weight)
{
    /// <summary>A correction is real traffic the model was asked about, and a person's considered answer: twice a written row.</summary>
    public const double DefaultWeight = 2;

    /// <summary>
    /// The labelled messages to train on, each at <see cref="DefaultWeight"/>, leaving out any whose text (normalised as the
    /// service reads it) is a row the accuracy figures are measured on: trained on, it would be learnt by heart and
    /// flatter those figures. Returns the rows and how many were left out.
    /// </summary>
    public static (List<CorrectionExample> Rows, int HeldOut) ForTraining(
        IEnumerable<(string Text, Sentiment Sentiment, Topic Topic)> labelled, IEnumerable<string> heldOutTexts)
    {
        var heldOut = heldOutTexts.Select(TextRules.Normalise).ToHashSet(StringComparer.Ordinal);
        var rows = new List<CorrectionExample>();
        var left = 0;
        foreach (var (text, sentiment, topic) in labelled)
        {
            if (heldOut.Contains(TextRules.Normalise(text)))
            {
                left++;
            }
            else
            {
                rows.Add(new CorrectionExample(text, sentiment, topic, DefaultWeight));
            }
        }

        return (rows, left);
    }
}
