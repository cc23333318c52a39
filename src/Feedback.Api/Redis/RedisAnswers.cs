using System.Text.Json;
using System.Text.Json.Serialization;
using Feedback.Analysis;
using Feedback.Analysis.Llm;
using StackExchange.Redis;

namespace Feedback.Api.Redis;

/// <summary>
/// LLM answers in Redis, the second level behind each instance's in-memory cache. Keys are the SHA-256 digest
/// the local cache uses (normalised text + model + prompt version): no text is ever written to Redis.
/// </summary>
internal sealed class RedisAnswers(RedisLink link, TimeSpan timeToLive) : ISharedAnswers
{
    public async ValueTask<Classification?> GetAsync(CacheKey key)
    {
        var (done, value) = await link.RunAsync("cache", db => db.StringGetAsync(AnswerKey(key)));
        return done && value.HasValue ? Decode(value!) : null;
    }

    public async ValueTask SetAsync(CacheKey key, Classification value)
    {
        if (timeToLive <= TimeSpan.Zero)
        {
            return;
        }

        var json = JsonSerializer.Serialize(SharedAnswer.From(value), RedisJsonContext.Default.SharedAnswer);
        await link.RunAsync("cache", db => db.StringSetAsync(AnswerKey(key), json, timeToLive));
    }

    public async ValueTask<bool> TryClaimAsync(CacheKey key, TimeSpan expiry)
    {
        var (done, claimed) = await link.RunAsync("cache", db => db.StringSetAsync(AskingKey(key), 1, expiry, When.NotExists));

        // Without Redis nobody can be waited for: this instance asks the LLM itself.
        return !done || claimed;
    }

    public async ValueTask ReleaseAsync(CacheKey key) =>
        await link.RunAsync("cache", db => db.KeyDeleteAsync(AskingKey(key)));

    private RedisKey AnswerKey(CacheKey key) => $"{link.KeyPrefix}answer:{Hex(key)}";

    private RedisKey AskingKey(CacheKey key) => $"{link.KeyPrefix}asking:{Hex(key)}";

    private static string Hex(CacheKey key) => $"{key.A:x16}{key.B:x16}{key.C:x16}{key.D:x16}";

    /// <summary>An entry another version wrote in a shape this one cannot read is a miss, not an error.</summary>
    private static Classification? Decode(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, RedisJsonContext.Default.SharedAnswer)?.ToClassification();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A classification as stored in Redis, with labels under their wire names so enum order cannot matter.</summary>
internal sealed record SharedAnswer(
    string Sentiment,
    string Topic,
    double Confidence,
    double[] Scores,
    string Language,
    string[] Reasons,
    double? TopicConfidence,
    string[]? TopicNames = null,
    double[]? TopicValues = null)
{
    public static SharedAnswer From(Classification c) => new(
        WireNames.Of(c.Sentiment), WireNames.Of(c.Topic), c.Confidence,
        [c.Scores.Positive, c.Scores.Negative, c.Scores.Neutral, c.Scores.Mixed], c.Language, [.. c.Reasons], c.TopicConfidence,
        c.TopicScores is { } t ? [.. t.Topics.Select(WireNames.Of)] : null, c.TopicScores is { } v ? [.. v.Values] : null);

    public Classification? ToClassification() =>
        WireNames.TryParseSentiment(Sentiment, out var sentiment) && Analysis.Topic.TryParse(Topic, out var topic) && Scores.Length == 4
            ? new Classification(sentiment, topic, Confidence, new SentimentScores(Scores[0], Scores[1], Scores[2], Scores[3]), Language, Reasons)
            {
                TopicConfidence = TopicConfidence,
                TopicScores = ReadTopicScores(),
            }
            : null;

    /// <summary>The topic scores, when the answer had them and every name is well formed.</summary>
    private TopicScores? ReadTopicScores()
    {
        if (TopicNames is null || TopicValues is null || TopicNames.Length != TopicValues.Length)
        {
            return null;
        }

        var topics = new Analysis.Topic[TopicNames.Length];
        for (var i = 0; i < topics.Length; i++)
        {
            if (!Analysis.Topic.TryParse(TopicNames[i], out topics[i]))
            {
                return null;
            }
        }

        return new TopicScores(topics, TopicValues);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(SharedAnswer))]
internal sealed partial class RedisJsonContext : JsonSerializerContext;
