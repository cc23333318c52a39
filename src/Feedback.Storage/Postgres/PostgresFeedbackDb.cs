using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Feedback.Storage.Postgres;

/// <summary>
/// The same model on PostgreSQL, as its own context type so it has its own migrations (Storage/Postgres/Migrations)
/// beside SQLite's. It adds the lease columns that let several instances share background work: a row claimed by
/// one instance (claimed_by) is left alone by the others until lease_until has passed.
/// </summary>
internal sealed class PostgresFeedbackDb(DbContextOptions<PostgresFeedbackDb> options) : FeedbackDb(options)
{
    public const string ClaimedBy = "claimed_by";
    public const string LeaseUntil = "lease_until";

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        var deliveries = modelBuilder.Entity<AlertDelivery>();
        deliveries.Property<string?>(ClaimedBy).HasColumnName(ClaimedBy).HasMaxLength(100);
        deliveries.Property<DateTime?>(LeaseUntil).HasColumnName(LeaseUntil);
        var feedback = modelBuilder.Entity<FeedbackRecord>();
        feedback.Property<string?>(ClaimedBy).HasColumnName(ClaimedBy).HasMaxLength(100);
        feedback.Property<DateTime?>(LeaseUntil).HasColumnName(LeaseUntil);

        // The whole column stays indexed here: the writer's ON CONFLICT (idempotency_key) infers this index as its
        // arbiter, which a partial index would need its predicate repeated for.
        feedback.HasIndex(f => f.IdempotencyKey).HasFilter(null);
    }
}

/// <summary>Lets `dotnet ef migrations add --context PostgresFeedbackDb` build the model without a server.</summary>
internal sealed class DesignTimePostgresFeedbackDb : IDesignTimeDbContextFactory<PostgresFeedbackDb>
{
    public PostgresFeedbackDb CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<PostgresFeedbackDb>()
            .UseNpgsql("Host=localhost;Database=feedback", npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history"))
            .Options);
}
