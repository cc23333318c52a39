using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Feedback.Storage;

/// <summary>Lets `dotnet ef migrations add` build the model without starting the host (which needs an API key).</summary>
internal sealed class DesignTimeFeedbackDb : IDesignTimeDbContextFactory<FeedbackDb>
{
    public FeedbackDb CreateDbContext(string[] args) => new(
        new DbContextOptionsBuilder<FeedbackDb>()
            .UseSqlite("Data Source=design-time.db", sqlite => sqlite.MigrationsHistoryTable("__ef_migrations_history"))
            .Options);
}
