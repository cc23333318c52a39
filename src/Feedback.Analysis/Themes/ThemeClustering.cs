using System.Buffers.Binary;
using System.Numerics.Tensors;

namespace Feedback.Analysis.Themes;

/// <summary>The thresholds of <see cref="ThemeClustering"/>, cosines of unit sentence vectors.</summary>
/// <param name="Leader">A message joins a micro-cluster whose first message is at least this close (the first pass).</param>
/// <param name="Merge">Two clusters whose members are on average at least this close become one (the second pass).</param>
/// <param name="Join">A message left in a cluster too small to be a theme, or arriving later, joins the theme whose members are on average at least this close.</param>
/// <param name="MinSize">The fewest messages a theme has.</param>
/// <param name="Sample">The most messages clustered; past it, the themes come from this many (the first in the vector order)
/// and every other message joins one as a message left over would (<see cref="ThemeClustering"/>).</param>
public sealed record ThemeThresholds(float Leader = 0.70f, float Merge = 0.38f, float Join = 0.28f, int MinSize = 3, int Sample = 10_000);

/// <summary>One theme found by <see cref="ThemeClustering"/>: its members (indexes into the input) and centroid.</summary>
/// <param name="Members">Indexes into the input, ascending by the input's ids.</param>
/// <param name="Centroid">The mean of the members' unit vectors (not at unit length): its dot product with a unit vector is
/// that vector's average cosine with the members.</param>
public sealed record FoundTheme(int[] Members, float[] Centroid);

/// <summary>
/// Deterministic clustering of sentence vectors into themes, with no random seed and no dependence on the order the
/// messages come in, so the same stored messages give the same themes on every run and every instance:
/// <list type="number">
/// <item>The messages are put in an order defined by their vectors alone (a hash of each vector's bits; equal vectors
/// by id), so a shuffled input is read in the same order.</item>
/// <item>Leader pass: in that order, each message joins the micro-cluster whose first message is the nearest, when
/// at least <see cref="ThemeThresholds.Leader"/> close, or starts one. Linear in the messages times the micro-clusters.</item>
/// <item>Merge pass (average linkage): the two closest clusters are merged while the average cosine between their
/// members is at least <see cref="ThemeThresholds.Merge"/>; ties go to the pair first in the vector order. The average
/// is the dot product of the two clusters' mean vectors, so no pair of messages is compared twice, and each cluster
/// keeps its best partner, so only clusters whose partner changed are compared again. Unlike the centroid's direction,
/// the average does not let a large, loose cluster swallow its neighbours.</item>
/// <item>Clusters of at least <see cref="ThemeThresholds.MinSize"/> are the themes; a message of a smaller cluster joins
/// the theme it is closest to on average, when at least <see cref="ThemeThresholds.Join"/>, else it is an outlier.</item>
/// </list>
/// The first two passes compare every message with every micro-cluster and every micro-cluster with every other, and on
/// real feedback most messages start a micro-cluster of their own (few are 0.70 close to another): quadratic in the
/// messages. So past <see cref="ThemeThresholds.Sample"/> messages only that many are clustered, the first in the vector
/// order (a sample that depends on the vectors alone, so it too is the same whatever the input's order), and every other
/// message is placed as a left-over one is: linear in the messages times the themes. A subject then needs about
/// MinSize × messages / Sample messages to be found as a theme of its own (30 of 100,000 at the defaults).
/// Work that does not depend on the order (nearest leaders of a block of messages, every cluster's best partner) runs on
/// every core; its results are combined in the fixed order, so the answer does not depend on the scheduling either.
/// </summary>
public static class ThemeClustering
{
    /// <summary>Messages whose nearest leaders are found together (in parallel) in the leader pass.</summary>
    private const int Block = 256;

    /// <summary>
    /// Themes of <paramref name="ids"/>, whose unit vectors are rows of <paramref name="vectors"/> (ids.Count ×
    /// <paramref name="dimensions"/>). <paramref name="cancellationToken"/> bounds the time: the work stops with
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public static ThemeClusters Cluster(
        IReadOnlyList<long> ids, float[] vectors, int dimensions, ThemeThresholds thresholds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (vectors.Length != ids.Count * dimensions)
        {
            throw new ArgumentException($"{ids.Count} vectors of {dimensions} dimensions need {ids.Count * dimensions} floats, not {vectors.Length}.", nameof(vectors));
        }

        var count = ids.Count;
        var order = CanonicalOrder(ids, vectors, dimensions);
        var sampled = order.Length > thresholds.Sample ? order[..Math.Max(1, thresholds.Sample)] : order;
        var micro = LeaderPass(sampled, vectors, dimensions, thresholds.Leader, cancellationToken);
        var merged = MergePass(micro, vectors, dimensions, thresholds.Merge, cancellationToken);

        var themes = merged.Where(c => c.Members.Count >= thresholds.MinSize).ToList();
        var assignment = new int[count];
        Array.Fill(assignment, -1);
        var centroids = new float[themes.Count * dimensions];
        for (var t = 0; t < themes.Count; t++)
        {
            Mean(themes[t], centroids.AsSpan(t * dimensions, dimensions));
            foreach (var member in themes[t].Members)
            {
                assignment[member] = t;
            }
        }

        // Messages of the small clusters and those past the sample, each to its nearest theme when close enough. A
        // theme's centroid stays as its own members made it, so the order these are placed in does not matter.
        int[] leftOver = [.. merged.Where(c => c.Members.Count < thresholds.MinSize).SelectMany(c => c.Members), .. order[sampled.Length..]];
        Parallel.For(0, leftOver.Length, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var member = leftOver[i];
            var (best, similarity) = Nearest(vectors.AsSpan(member * dimensions, dimensions), centroids, dimensions, themes.Count);
            if (best >= 0 && similarity >= thresholds.Join)
            {
                assignment[member] = best;
            }
        });

        var found = new List<FoundTheme>(themes.Count);
        var members = new List<int>[themes.Count];
        for (var t = 0; t < themes.Count; t++)
        {
            members[t] = [];
        }

        foreach (var index in Enumerable.Range(0, count).OrderBy(i => ids[i]))
        {
            if (assignment[index] >= 0)
            {
                members[assignment[index]].Add(index);
            }
        }

        for (var t = 0; t < themes.Count; t++)
        {
            found.Add(new FoundTheme([.. members[t]], centroids.AsSpan(t * dimensions, dimensions).ToArray()));
        }

        return new ThemeClusters(found, count - found.Sum(f => f.Members.Length));
    }

    /// <summary>
    /// The nearest of <paramref name="count"/> centroids to <paramref name="vector"/> by dot product (with unit leaders,
    /// the cosine; with themes' means, the average cosine with their members), and that product; (-1, 0) with none.
    /// </summary>
    public static (int Index, float Similarity) Nearest(ReadOnlySpan<float> vector, ReadOnlySpan<float> centroids, int dimensions, int count)
    {
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        for (var c = 0; c < count; c++)
        {
            var similarity = TensorPrimitives.Dot(vector, centroids.Slice(c * dimensions, dimensions));
            if (similarity > bestSimilarity)
            {
                (best, bestSimilarity) = (c, similarity);
            }
        }

        return best < 0 ? (-1, 0) : (best, bestSimilarity);
    }

    /// <summary>The input's indexes ordered by a hash of each vector's bits, then by id (only equal vectors tie).</summary>
    private static int[] CanonicalOrder(IReadOnlyList<long> ids, float[] vectors, int dimensions)
    {
        var keys = new ulong[ids.Count];
        Parallel.For(0, ids.Count, i =>
        {
            var hash = 14695981039346656037UL;
            Span<byte> bytes = stackalloc byte[sizeof(float)];
            foreach (var component in vectors.AsSpan(i * dimensions, dimensions))
            {
                BinaryPrimitives.WriteSingleLittleEndian(bytes, component);
                foreach (var b in bytes)
                {
                    hash = (hash ^ b) * 1099511628211UL;
                }
            }

            keys[i] = hash;
        });
        return [.. Enumerable.Range(0, ids.Count).OrderBy(i => keys[i]).ThenBy(i => ids[i])];
    }

    /// <summary>A cluster being built: its members (input indexes, in the canonical order they joined) and their vectors' sum.</summary>
    private sealed class Building(int rank, float[] sum)
    {
        /// <summary>The position of its first message in the canonical order: the tie-breaker.</summary>
        public int Rank { get; } = rank;

        public List<int> Members { get; } = [];

        public float[] Sum { get; } = sum;
    }

    private static List<Building> LeaderPass(int[] order, float[] vectors, int dimensions, float threshold, CancellationToken cancellationToken)
    {
        var clusters = new List<Building>();
        var leaders = new float[Math.Max(1, order.Length / 4) * dimensions];
        var nearest = new (int Index, float Similarity)[Block];
        for (var start = 0; start < order.Length; start += Block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var end = Math.Min(order.Length, start + Block);
            var known = clusters.Count;
            var snapshot = leaders;
            Parallel.For(start, end, new ParallelOptions { CancellationToken = cancellationToken }, position =>
                nearest[position - start] = Nearest(vectors.AsSpan(order[position] * dimensions, dimensions), snapshot, dimensions, known));

            for (var position = start; position < end; position++)
            {
                var index = order[position];
                var vector = vectors.AsSpan(index * dimensions, dimensions);
                var (best, similarity) = nearest[position - start];

                // Leaders started earlier in this block were not seen by the parallel search.
                for (var c = known; c < clusters.Count; c++)
                {
                    var s = TensorPrimitives.Dot(vector, leaders.AsSpan(c * dimensions, dimensions));
                    if (best < 0 || s > similarity)
                    {
                        (best, similarity) = (c, s);
                    }
                }

                if (best >= 0 && similarity >= threshold)
                {
                    clusters[best].Members.Add(index);
                    TensorPrimitives.Add(clusters[best].Sum, vector, clusters[best].Sum);
                    continue;
                }

                if ((clusters.Count + 1) * dimensions > leaders.Length)
                {
                    Array.Resize(ref leaders, leaders.Length * 2);
                }

                vector.CopyTo(leaders.AsSpan(clusters.Count * dimensions, dimensions));
                var cluster = new Building(position, vector.ToArray());
                cluster.Members.Add(index);
                clusters.Add(cluster);
            }
        }

        return clusters;
    }

    private static List<Building> MergePass(List<Building> clusters, float[] vectors, int dimensions, float threshold, CancellationToken cancellationToken)
    {
        var count = clusters.Count;
        var centroids = new float[count * dimensions];
        for (var c = 0; c < count; c++)
        {
            Mean(clusters[c], centroids.AsSpan(c * dimensions, dimensions));
        }

        var alive = new bool[count];
        Array.Fill(alive, true);
        var partner = new int[count];
        var partnerSimilarity = new float[count];
        Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken }, c => (partner[c], partnerSimilarity[c]) = BestPartner(c, centroids, alive, dimensions));

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // The closest pair; of equal ones, the pair whose lower cluster comes first (clusters are in rank order).
            var a = -1;
            for (var c = 0; c < count; c++)
            {
                if (alive[c] && partner[c] >= 0 && (a < 0 || partnerSimilarity[c] > partnerSimilarity[a]))
                {
                    a = c;
                }
            }

            if (a < 0 || partnerSimilarity[a] < threshold)
            {
                break;
            }

            var b = partner[a];
            var (keep, gone) = a < b ? (a, b) : (b, a);
            clusters[keep].Members.AddRange(clusters[gone].Members);
            TensorPrimitives.Add(clusters[keep].Sum, clusters[gone].Sum, clusters[keep].Sum);
            Mean(clusters[keep], centroids.AsSpan(keep * dimensions, dimensions));
            alive[gone] = false;

            var stale = new List<int> { keep };
            for (var c = 0; c < count; c++)
            {
                if (!alive[c] || c == keep)
                {
                    continue;
                }

                if (partner[c] == keep || partner[c] == gone)
                {
                    stale.Add(c);
                }
                else
                {
                    var s = TensorPrimitives.Dot(centroids.AsSpan(c * dimensions, dimensions), centroids.AsSpan(keep * dimensions, dimensions));
                    if (s > partnerSimilarity[c] || (s == partnerSimilarity[c] && keep < partner[c]))
                    {
                        (partner[c], partnerSimilarity[c]) = (keep, s);
                    }
                }
            }

            if (stale.Count > 8)
            {
                Parallel.ForEach(stale, c => (partner[c], partnerSimilarity[c]) = BestPartner(c, centroids, alive, dimensions));
            }
            else
            {
                foreach (var c in stale)
                {
                    (partner[c], partnerSimilarity[c]) = BestPartner(c, centroids, alive, dimensions);
                }
            }
        }

        return [.. Enumerable.Range(0, count).Where(c => alive[c]).Select(c => clusters[c])];
    }

    /// <summary>The live cluster nearest to <paramref name="c"/> (of equal ones, the first), and its cosine; (-1, -inf) alone.</summary>
    private static (int, float) BestPartner(int c, float[] centroids, bool[] alive, int dimensions)
    {
        var own = centroids.AsSpan(c * dimensions, dimensions);
        var best = -1;
        var bestSimilarity = float.NegativeInfinity;
        for (var other = 0; other < alive.Length; other++)
        {
            if (other == c || !alive[other])
            {
                continue;
            }

            var s = TensorPrimitives.Dot(own, centroids.AsSpan(other * dimensions, dimensions));
            if (s > bestSimilarity)
            {
                (best, bestSimilarity) = (other, s);
            }
        }

        return (best, bestSimilarity);
    }

    private static void Mean(Building cluster, Span<float> destination) => TensorPrimitives.Divide(cluster.Sum, cluster.Members.Count, destination);
}

/// <summary>What <see cref="ThemeClustering.Cluster"/> found: the themes and how many messages joined none.</summary>
public sealed record ThemeClusters(IReadOnlyList<FoundTheme> Themes, int Outliers);
