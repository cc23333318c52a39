namespace Feedback.Api.Storage;

/// <summary>One stored message and the answer the service gave for it.</summary>
internal sealed class FeedbackRecord
{
    public long Id { get; set; }

    public required string Text { get; set; }

    public string? Source { get; set; }

    public string? CustomerId { get; set; }

    /// <summary>The client's metadata object as JSON text, stored as sent.</summary>
    public string? Metadata { get; set; }

    public required string Sentiment { get; set; }

    public required string Topic { get; set; }

    public double Confidence { get; set; }

    public required string ConfidenceScore { get; set; }

    public double ScorePositive { get; set; }

    public double ScoreNegative { get; set; }

    public double ScoreNeutral { get; set; }

    public double ScoreMixed { get; set; }

    public bool AlertTriggered { get; set; }

    public required string ProcessingMethod { get; set; }

    public required string Language { get; set; }

    public string? PromptVersion { get; set; }

    public required string Model { get; set; }

    public required string Status { get; set; }

    /// <summary>JSON array of warning strings.</summary>
    public required string Warnings { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The client's Idempotency-Key, prefixed with the id of the API key that sent it.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>SHA-256 of the request body, to tell a replay from a reused key.</summary>
    public string? RequestHash { get; set; }
}

/// <summary>An alert raised for one message; delivery state belongs to the alerting feature.</summary>
internal sealed class AlertRecord
{
    public long Id { get; set; }

    public long FeedbackId { get; set; }

    public required string Sentiment { get; set; }

    public required string Topic { get; set; }

    public double Confidence { get; set; }

    /// <summary><c>open</c> or <c>resolved</c>.</summary>
    public required string State { get; set; }

    public DateTime CreatedAt { get; set; }
}

/// <summary>One row that health probes rewrite to prove the store takes writes.</summary>
internal sealed class StoreHeartbeat
{
    public int Id { get; set; }

    public DateTime At { get; set; }
}
