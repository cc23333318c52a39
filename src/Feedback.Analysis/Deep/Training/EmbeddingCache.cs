using System.Security.Cryptography;
using System.Text;

namespace Feedback.Analysis.Deep.Training;

/// <summary>
/// Sentence vectors of training texts, kept in a file between runs of <c>./run.sh train</c> so that a retrain (a new
/// topic, new corrections) encodes only what it has not seen. Vectors are rounded to multiples of 1/8192 before they
/// are used or stored: the last bits ONNX Runtime computes differ between CPUs, the rounded values almost never do, so
/// the heads come out the same bit for bit from a warm cache, a cold one, or another machine.
/// </summary>
internal sealed class EmbeddingCache
{
    private const int HashLength = 32;
    private const float Grid = 8192f;

    private readonly string? path;
    private readonly Dictionary<string, float[]> vectors = new(StringComparer.Ordinal);
    private readonly List<(string Key, float[] Vector)> added = [];

    /// <param name="path">The cache file; null keeps vectors for this run only.</param>
    public EmbeddingCache(string? path)
    {
        this.path = path;
        if (path is null || !File.Exists(path))
        {
            return;
        }

        using var reader = new BinaryReader(File.OpenRead(path));
        var recordLength = HashLength + (SentenceEncoder.Dimensions * sizeof(float));
        while (reader.BaseStream.Length - reader.BaseStream.Position >= recordLength)
        {
            var key = Convert.ToHexString(reader.ReadBytes(HashLength));
            var vector = new float[SentenceEncoder.Dimensions];
            for (var d = 0; d < vector.Length; d++)
            {
                vector[d] = reader.ReadSingle();
            }

            vectors[key] = vector;
        }
    }

    public int Count => vectors.Count;

    /// <summary>The rounded vector of every text, encoding (in batches) those not in the cache.</summary>
    public float[][] Get(IReadOnlyList<string> texts, Func<SentenceEncoder> encoder, TextWriter? log = null)
    {
        var keys = texts.Select(KeyOf).ToArray();
        var missing = Enumerable.Range(0, texts.Count).Where(i => !vectors.ContainsKey(keys[i])).DistinctBy(i => keys[i], StringComparer.Ordinal).ToArray();
        if (missing.Length > 0)
        {
            log?.WriteLine($"encoding {missing.Length:N0} texts not in the embedding cache ({vectors.Count:N0} are)...");
            const int Slice = 512;
            for (var start = 0; start < missing.Length; start += Slice)
            {
                var slice = missing.Skip(start).Take(Slice).ToArray();
                var encoded = encoder().Encode([.. slice.Select(i => texts[i])]);
                for (var j = 0; j < slice.Length; j++)
                {
                    var vector = Round(encoded[j]);
                    vectors[keys[slice[j]]] = vector;
                    added.Add((keys[slice[j]], vector));
                }

                log?.WriteLine($"  {Math.Min(start + Slice, missing.Length):N0} / {missing.Length:N0}");
            }
        }

        return [.. keys.Select(k => vectors[k])];
    }

    /// <summary>Appends the vectors encoded in this run to the file.</summary>
    public void Save()
    {
        if (path is null || added.Count == 0)
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new BinaryWriter(new FileStream(path, FileMode.Append, FileAccess.Write));
        foreach (var (key, vector) in added)
        {
            writer.Write(Convert.FromHexString(key));
            foreach (var v in vector)
            {
                writer.Write(v);
            }
        }

        added.Clear();
    }

    internal static float[] Round(float[] vector) => Array.ConvertAll(vector, v => MathF.Round(v * Grid) / Grid);

    private static string KeyOf(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
