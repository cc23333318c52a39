using System.Text;

namespace Feedback.Analysis.Local.Training;

/// <summary>
/// The fixed train / held-out split of every labelled row: a row is held out when the FNV-1a hash of its
/// UTF-8 text falls in the lowest 20 of 100 buckets. Identical texts always land on the same side, so a
/// duplicate cannot leak from training into evaluation, and the split never depends on file order.
/// </summary>
internal static class DataSplit
{
    public const int HeldOutPercent = 20;

    public static bool IsHeldOut(string text) => Bucket(text) < HeldOutPercent;

    /// <summary>0..99, stable across runs, machines and .NET versions.</summary>
    public static int Bucket(string text) => (int)(Hash(text) % 100);

    /// <summary>
    /// The FNV-1a 64 hash of the text's UTF-8 bytes: what the split buckets, and the key of a row's readings
    /// (training/data/product_feedback_v2.readings.csv, as 16 lower-case hex digits).
    /// </summary>
    public static ulong Hash(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
