using Microsoft.EntityFrameworkCore;

namespace Feedback.Storage;

/// <summary>The store's model. SQLite uses it as it is; <see cref="PostgresFeedbackDb"/> extends it with its own migrations.</summary>
internal class FeedbackDb : DbContext
{
    /// <summary>
    /// The rows the unique idempotency-key index holds on SQLite. An upsert against that index names this condition
    /// in its conflict target, which is how SQLite matches a partial index.
    /// </summary>
    public const string KeyedRows = "idempotency_key IS NOT NULL";

    public FeedbackDb(DbContextOptions<FeedbackDb> options)
        : base(options)
    {
    }

    protected FeedbackDb(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<FeedbackRecord> Feedback => Set<FeedbackRecord>();

    public DbSet<AlertRecord> Alerts => Set<AlertRecord>();

    public DbSet<StoreHeartbeat> Heartbeats => Set<StoreHeartbeat>();

    public DbSet<FeedbackRevision> Revisions => Set<FeedbackRevision>();

    public DbSet<AlertGroup> AlertGroups => Set<AlertGroup>();

    public DbSet<AlertDelivery> AlertDeliveries => Set<AlertDelivery>();

    public DbSet<FeedbackLabel> Labels => Set<FeedbackLabel>();

    public DbSet<DataProtectionKeyRecord> DataProtectionKeys => Set<DataProtectionKeyRecord>();

    public DbSet<LlmUsageRecord> LlmUsage => Set<LlmUsageRecord>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var feedback = modelBuilder.Entity<FeedbackRecord>();
        feedback.ToTable("feedback");
        feedback.HasKey(f => f.Id);
        feedback.Property(f => f.Id).HasColumnName("id");
        feedback.Property(f => f.Text).HasColumnName("text");
        feedback.Property(f => f.Source).HasColumnName("source").HasMaxLength(100);
        feedback.Property(f => f.CustomerId).HasColumnName("customer_id").HasMaxLength(200);
        feedback.Property(f => f.Metadata).HasColumnName("metadata");
        feedback.Property(f => f.Sentiment).HasColumnName("sentiment").HasMaxLength(16);
        feedback.Property(f => f.Topic).HasColumnName("topic").HasMaxLength(32);
        feedback.Property(f => f.Confidence).HasColumnName("confidence");
        feedback.Property(f => f.ConfidenceScore).HasColumnName("confidence_score").HasMaxLength(8);
        feedback.Property(f => f.ScorePositive).HasColumnName("score_positive");
        feedback.Property(f => f.ScoreNegative).HasColumnName("score_negative");
        feedback.Property(f => f.ScoreNeutral).HasColumnName("score_neutral");
        feedback.Property(f => f.ScoreMixed).HasColumnName("score_mixed");
        feedback.Property(f => f.AlertTriggered).HasColumnName("alert_triggered");
        feedback.Property(f => f.ProcessingMethod).HasColumnName("processing_method").HasMaxLength(16);
        feedback.Property(f => f.Language).HasColumnName("language").HasMaxLength(8);
        feedback.Property(f => f.PromptVersion).HasColumnName("prompt_version").HasMaxLength(32);
        feedback.Property(f => f.Model).HasColumnName("model").HasMaxLength(100);
        feedback.Property(f => f.Status).HasColumnName("status").HasMaxLength(16);
        feedback.Property(f => f.Warnings).HasColumnName("warnings");
        feedback.Property(f => f.CreatedAt).HasColumnName("created_at");
        feedback.Property(f => f.IdempotencyKey).HasColumnName("idempotency_key").HasMaxLength(300);
        feedback.Property(f => f.RequestHash).HasColumnName("request_hash").HasMaxLength(64);
        feedback.Property(f => f.TopicScores).HasColumnName("topic_scores");
        feedback.Property(f => f.Embedding).HasColumnName("embedding");
        feedback.HasIndex(f => f.Sentiment).HasDatabaseName("ix_feedback_sentiment");
        feedback.HasIndex(f => f.Topic).HasDatabaseName("ix_feedback_topic");
        feedback.HasIndex(f => f.CreatedAt).HasDatabaseName("ix_feedback_created_at");
        feedback.HasIndex(f => f.AlertTriggered).HasDatabaseName("ix_feedback_alert_triggered");
        // Only rows sent with an Idempotency-Key are in it (unique keys treat NULLs as distinct anyway): most rows have
        // none, and each would cost every group commit an index insert for nothing. A lookup by key still uses it.
        feedback.HasIndex(f => f.IdempotencyKey).IsUnique().HasFilter(KeyedRows).HasDatabaseName("ux_feedback_idempotency_key");

        var alerts = modelBuilder.Entity<AlertRecord>();
        alerts.ToTable("alerts");
        alerts.HasKey(a => a.Id);
        alerts.Property(a => a.Id).HasColumnName("id");
        alerts.Property(a => a.FeedbackId).HasColumnName("feedback_id");
        alerts.Property(a => a.Sentiment).HasColumnName("sentiment").HasMaxLength(16);
        alerts.Property(a => a.Topic).HasColumnName("topic").HasMaxLength(32);
        alerts.Property(a => a.Confidence).HasColumnName("confidence");
        alerts.Property(a => a.State).HasColumnName("state").HasMaxLength(16);
        alerts.Property(a => a.CreatedAt).HasColumnName("created_at");
        alerts.HasOne<FeedbackRecord>().WithMany().HasForeignKey(a => a.FeedbackId).OnDelete(DeleteBehavior.Cascade);
        alerts.Property(a => a.GroupId).HasColumnName("group_id");
        alerts.Property(a => a.Severity).HasColumnName("severity").HasMaxLength(16);
        alerts.HasOne<AlertGroup>().WithMany().HasForeignKey(a => a.GroupId).OnDelete(DeleteBehavior.SetNull);
        alerts.HasIndex(a => a.GroupId).HasDatabaseName("ix_alerts_group_id");
        alerts.HasIndex(a => a.FeedbackId).HasDatabaseName("ix_alerts_feedback_id");

        var groups = modelBuilder.Entity<AlertGroup>();
        groups.ToTable("alert_groups");
        groups.HasKey(g => g.Id);
        groups.Property(g => g.Id).HasColumnName("id");
        groups.Property(g => g.Kind).HasColumnName("kind").HasMaxLength(16);
        groups.Property(g => g.Topic).HasColumnName("topic").HasMaxLength(32);
        groups.Property(g => g.Severity).HasColumnName("severity").HasMaxLength(16);
        groups.Property(g => g.Fingerprint).HasColumnName("fingerprint");
        groups.Property(g => g.FirstAt).HasColumnName("first_at");
        groups.Property(g => g.LastAt).HasColumnName("last_at");
        groups.Property(g => g.Count).HasColumnName("count");
        groups.Property(g => g.State).HasColumnName("state").HasMaxLength(16);
        groups.Property(g => g.ResolvedAt).HasColumnName("resolved_at");
        groups.Property(g => g.DedupKey).HasColumnName("dedup_key").HasMaxLength(100);
        groups.Property(g => g.Summary).HasColumnName("summary").HasMaxLength(400);
        groups.HasIndex(g => new { g.State, g.Topic, g.FirstAt }).HasDatabaseName("ix_alert_groups_state_topic_first_at");
        groups.HasIndex(g => g.DedupKey).IsUnique().HasDatabaseName("ux_alert_groups_dedup_key");

        var deliveries = modelBuilder.Entity<AlertDelivery>();
        deliveries.ToTable("alert_deliveries");
        deliveries.HasKey(d => d.Id);
        deliveries.Property(d => d.Id).HasColumnName("id");
        deliveries.Property(d => d.GroupId).HasColumnName("group_id");
        deliveries.Property(d => d.Kind).HasColumnName("kind").HasMaxLength(16);
        deliveries.Property(d => d.Channel).HasColumnName("channel").HasMaxLength(16);
        deliveries.Property(d => d.State).HasColumnName("state").HasMaxLength(16);
        deliveries.Property(d => d.Attempts).HasColumnName("attempts");
        deliveries.Property(d => d.NextAttemptAt).HasColumnName("next_attempt_at");
        deliveries.Property(d => d.LastError).HasColumnName("last_error").HasMaxLength(300);
        deliveries.Property(d => d.CreatedAt).HasColumnName("created_at");
        deliveries.Property(d => d.DeliveredAt).HasColumnName("delivered_at");
        deliveries.HasOne<AlertGroup>().WithMany().HasForeignKey(d => d.GroupId).OnDelete(DeleteBehavior.Cascade);
        deliveries.HasIndex(d => new { d.State, d.NextAttemptAt }).HasDatabaseName("ix_alert_deliveries_state_next_attempt_at");
        deliveries.HasIndex(d => new { d.GroupId, d.Kind, d.Channel }).IsUnique().HasDatabaseName("ux_alert_deliveries_group_kind_channel");
        alerts.HasIndex(a => new { a.State, a.CreatedAt }).HasDatabaseName("ix_alerts_state_created_at");

        var revisions = modelBuilder.Entity<FeedbackRevision>();
        revisions.ToTable("feedback_revisions");
        revisions.HasKey(r => r.Id);
        revisions.Property(r => r.Id).HasColumnName("id");
        revisions.Property(r => r.FeedbackId).HasColumnName("feedback_id");
        revisions.Property(r => r.RevisedAt).HasColumnName("revised_at");
        revisions.Property(r => r.PreviousSentiment).HasColumnName("previous_sentiment").HasMaxLength(16);
        revisions.Property(r => r.PreviousTopic).HasColumnName("previous_topic").HasMaxLength(32);
        revisions.Property(r => r.PreviousConfidence).HasColumnName("previous_confidence");
        revisions.Property(r => r.PreviousMethod).HasColumnName("previous_method").HasMaxLength(16);
        revisions.Property(r => r.Sentiment).HasColumnName("sentiment").HasMaxLength(16);
        revisions.Property(r => r.Topic).HasColumnName("topic").HasMaxLength(32);
        revisions.Property(r => r.Confidence).HasColumnName("confidence");
        revisions.Property(r => r.Method).HasColumnName("method").HasMaxLength(16);
        revisions.Property(r => r.PromptVersion).HasColumnName("prompt_version").HasMaxLength(32);
        revisions.Property(r => r.Model).HasColumnName("model").HasMaxLength(100);
        revisions.Property(r => r.Reason).HasColumnName("reason").HasMaxLength(200);
        revisions.HasOne<FeedbackRecord>().WithMany().HasForeignKey(r => r.FeedbackId).OnDelete(DeleteBehavior.Cascade);
        revisions.HasIndex(r => r.FeedbackId).HasDatabaseName("ix_feedback_revisions_feedback_id");

        var labels = modelBuilder.Entity<FeedbackLabel>();
        labels.ToTable("labels");
        labels.HasKey(l => l.Id);
        labels.Property(l => l.Id).HasColumnName("id");
        labels.Property(l => l.FeedbackId).HasColumnName("feedback_id");
        labels.Property(l => l.Sentiment).HasColumnName("sentiment").HasMaxLength(16);
        labels.Property(l => l.Topic).HasColumnName("topic").HasMaxLength(64);
        labels.Property(l => l.LabelledAt).HasColumnName("labelled_at");
        // Unbounded: a key's name in API_KEYS_FILE has no length limit, and a label must not fail on a long one.
        labels.Property(l => l.LabelledBy).HasColumnName("labelled_by");

        // A message's labels go with it, as its revisions do.
        labels.HasOne<FeedbackRecord>().WithMany().HasForeignKey(l => l.FeedbackId).OnDelete(DeleteBehavior.Cascade);

        // The current label is the newest row of a message: read by (feedback_id, id) from this index alone.
        labels.HasIndex(l => new { l.FeedbackId, l.Id }).HasDatabaseName("ix_labels_feedback_id_id");

        // The sweep looks for provisional rows; a partial index keeps that scan to the few that are.
        feedback.HasIndex(f => f.Status).HasDatabaseName("ix_feedback_provisional").HasFilter("status = 'provisional'");

        // The dashboard's cookie keys (Feedback.Api/Dashboard/StoredKeyRing.cs): a handful of rows, one added every 90 days.
        var keys = modelBuilder.Entity<DataProtectionKeyRecord>();
        keys.ToTable("data_protection_keys");
        keys.HasKey(k => k.Id);
        keys.Property(k => k.Id).HasColumnName("id");
        keys.Property(k => k.FriendlyName).HasColumnName("friendly_name").HasMaxLength(100);
        keys.Property(k => k.Xml).HasColumnName("xml");

        // One row an hour, written by the group commits that record LLM calls (LlmBudgetAlerts reads the month's sum).
        var usage = modelBuilder.Entity<LlmUsageRecord>();
        usage.ToTable("llm_usage");
        usage.HasKey(u => u.Hour);
        usage.Property(u => u.Hour).HasColumnName("hour").ValueGeneratedNever();
        usage.Property(u => u.Calls).HasColumnName("calls");
        usage.Property(u => u.InputTokens).HasColumnName("input_tokens");
        usage.Property(u => u.OutputTokens).HasColumnName("output_tokens");

        var heartbeat = modelBuilder.Entity<StoreHeartbeat>();
        heartbeat.ToTable("store_heartbeat");
        heartbeat.HasKey(h => h.Id);
        heartbeat.Property(h => h.Id).HasColumnName("id").ValueGeneratedNever();
        heartbeat.Property(h => h.At).HasColumnName("at");
    }
}
