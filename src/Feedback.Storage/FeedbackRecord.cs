using System.Text.Json;
using Feedback.Analysis;

namespace Feedback.Storage;

/// <summary>One stored message and the answer the service gave for it.</summary>
internal sealed class FeedbackRecord
{
    /// <summary>A record holding only an answer's labels, for a revision.</summary>
    public static FeedbackRecord ForAnswer(AnalysisResult result, bool alert, Taxonomy taxonomy)
    {
        var record = new FeedbackRecord { Text = "" };
        record.Apply(result, alert, taxonomy);
        return record;
    }

    /// <summary>Copies an answer's labels, scores, method and provenance onto this row.</summary>
    /// <param name="taxonomy">The configured topics, which the answer's <c>topics</c> scores are stored over.</param>
    public void Apply(AnalysisResult result, bool alert, Taxonomy taxonomy)
    {
        var c = result.Classification;
        TopicScores = StoredTopicScores.Of(c, taxonomy);
        Embedding = c.Embedding is { } vector ? StoredEmbedding.Encode(vector) : null;
        Sentiment = WireNames.Of(c.Sentiment);
        Topic = WireNames.Of(c.Topic);
        Confidence = c.Confidence;
        ConfidenceScore = WireNames.Of(c.ConfidenceLevel);
        ScorePositive = c.Scores.Positive;
        ScoreNegative = c.Scores.Negative;
        ScoreNeutral = c.Scores.Neutral;
        ScoreMixed = c.Scores.Mixed;
        AlertTriggered = alert;
        ProcessingMethod = WireNames.Of(result.Method);
        Language = c.Language;
        PromptVersion = result.PromptVersion;
        Model = result.Model;
        Status = result.Provisional ? "provisional" : "final";
        Warnings = result.Warnings.Count == 0 ? "[]" : JsonSerializer.Serialize(result.Warnings);
    }

    public long Id { get; set; }

    public required string Text { get; set; }

    public string? Source { get; set; }

    public string? CustomerId { get; set; }

    /// <summary>The client's metadata object as JSON text, stored as sent.</summary>
    public string? Metadata { get; set; }

    public string Sentiment { get; set; } = "";

    public string Topic { get; set; } = "";

    public double Confidence { get; set; }

    public string ConfidenceScore { get; set; } = "";

    public double ScorePositive { get; set; }

    public double ScoreNegative { get; set; }

    public double ScoreNeutral { get; set; }

    public double ScoreMixed { get; set; }

    public bool AlertTriggered { get; set; }

    public string ProcessingMethod { get; set; } = "";

    public string Language { get; set; } = "";

    public string? PromptVersion { get; set; }

    public string Model { get; set; } = "";

    public string Status { get; set; } = "";

    /// <summary>JSON array of warning strings.</summary>
    public string Warnings { get; set; } = "[]";

    public DateTime CreatedAt { get; set; }

    /// <summary>The client's Idempotency-Key, prefixed with the id of the API key that sent it.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the request body, to tell a replay from a reused key.</summary>
    public string? RequestHash { get; set; }

    /// <summary>JSON object of every configured topic's score (topic name to score); null for rows stored before topics were scored.</summary>
    public string? TopicScores { get; set; }

    /// <summary>The message's sentence vector (<see cref="StoredEmbedding"/>); null when no encoder read it yet (<c>./run.sh reindex</c>).</summary>
    public byte[]? Embedding { get; set; }
}

/// <summary>An alert raised for one message; delivery state belongs to the alerting feature.</summary>
internal sealed class AlertRecord
{
    public long Id { get; set; }

    public long FeedbackId { get; set; }

    public required string Sentiment { get; set; }

    public required string Topic { get; set; }

    public double Confidence { get; set; }

    /// <summary><c>open</c>, <c>resolved</c>, or <c>superseded</c> when a later answer no longer needs a person.</summary>
    public required string State { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The group of near-duplicate alerts this one joined (the first of a group creates it).</summary>
    public long? GroupId { get; set; }

    public string? Severity { get; set; }
}

/// <summary>
/// Alerts of one topic whose texts are near-duplicates within a window, or one topic spike. The first
/// alert of a group is sent; the rest are counted and summarised in one follow-up.
/// </summary>
internal sealed class AlertGroup
{
    public long Id { get; set; }

    /// <summary><c>feedback</c> (alerts on messages) or <c>spike</c> (a topic's negative count far above its baseline).</summary>
    public required string Kind { get; set; }

    public required string Topic { get; set; }

    public required string Severity { get; set; }

    /// <summary>64-bit SimHash of the first alert's normalised text.</summary>
    public long Fingerprint { get; set; }

    public DateTime FirstAt { get; set; }

    public DateTime LastAt { get; set; }

    public int Count { get; set; }

    /// <summary><c>open</c> or <c>resolved</c>.</summary>
    public required string State { get; set; }

    public DateTime? ResolvedAt { get; set; }

    /// <summary>For spikes: one per topic and hour.</summary>
    public string? DedupKey { get; set; }

    /// <summary>What the group is about, for messages: the first alert's excerpt, or the spike's statistic.</summary>
    public required string Summary { get; set; }
}

/// <summary>One message to one channel about one group: the durable outbox row, sent at least once.</summary>
internal sealed class AlertDelivery
{
    public long Id { get; set; }

    public long GroupId { get; set; }

    /// <summary><c>initial</c>, <c>summary</c> or <c>resolve</c>.</summary>
    public required string Kind { get; set; }

    /// <summary><c>log</c>, <c>slack</c>, <c>webhook</c> or <c>pagerduty</c>.</summary>
    public required string Channel { get; set; }

    /// <summary>
    /// <c>pending</c>, <c>delivered</c> or <c>failed</c>: a delivery is retried until it is delivered, or until a permanent
    /// answer or the last attempt allowed parks it as failed (POST /alerts/{id}/retry makes it pending again).
    /// </summary>
    public required string State { get; set; }

    public int Attempts { get; set; }

    public DateTime NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime? DeliveredAt { get; set; }
}

/// <summary>One row that health probes rewrite to prove the store takes writes.</summary>
internal sealed class StoreHeartbeat
{
    public int Id { get; set; }

    public DateTime At { get; set; }
}

/// <summary>One change of a stored answer (the LLM's answer replacing a provisional local one), kept as history.</summary>
internal sealed class FeedbackRevision
{
    public long Id { get; set; }

    public long FeedbackId { get; set; }

    public DateTime RevisedAt { get; set; }

    public required string PreviousSentiment { get; set; }

    public required string PreviousTopic { get; set; }

    public double PreviousConfidence { get; set; }

    public required string PreviousMethod { get; set; }

    public required string Sentiment { get; set; }

    public required string Topic { get; set; }

    public double Confidence { get; set; }

    public required string Method { get; set; }

    public string? PromptVersion { get; set; }

    public required string Model { get; set; }

    /// <summary>Why the answer changed or stayed, in a few words.</summary>
    public required string Reason { get; set; }
}

/// <summary>
/// A person's sentiment and topic for one message (PUT /feedback/{id}/label), stored beside the model's answer, which it
/// never changes. Relabelling adds a row: the latest is the message's label, the earlier ones are its history.
/// </summary>
internal sealed class FeedbackLabel
{
    public long Id { get; set; }

    public long FeedbackId { get; set; }

    public required string Sentiment { get; set; }

    /// <summary>The topic's wire name, so a topic added to the taxonomy later needs no schema change.</summary>
    public required string Topic { get; set; }

    public DateTime LabelledAt { get; set; }

    /// <summary>The name of the API key that set it.</summary>
    public required string LabelledBy { get; set; }
}
