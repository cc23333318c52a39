using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <summary>
    /// Two narrower sums of the hourly rollups that GET /stats reads instead of summing every hour and key of its range
    /// (issue #23: a month of hours holds up to 720 x 144 rollup rows): per day and key (feedback_rollups_daily) and per
    /// hour, sentiment and alert (feedback_rollups_sentiment). Triggers on feedback_rollups keep them, so every path that
    /// moves a rollup (the feedback triggers, retention, the rebuild) moves them alike; the fill sums the rollups there are.
    /// Alerts are counted per hour raised x state (alert_rollups) by triggers on alerts, so /stats reads its hours
    /// instead of counting alerts; the fill counts the alerts there are. The search index drops a deleted message's words
    /// at once (FTS5 secure-delete), so erasure and retention leave none of them behind.
    /// </summary>
    public partial class DailyRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(RollupsSql.CreateDerivedTables);
            migrationBuilder.Sql(RollupsSql.SqliteDerivedTriggers);
            migrationBuilder.Sql(RollupsSql.DerivedFillSql(postgres: false));
            migrationBuilder.Sql(RollupsSql.SqliteAlertRollups);
            migrationBuilder.Sql(RollupsSql.AlertFillSql(postgres: false));
            migrationBuilder.Sql(RollupsSql.SqliteSearchSecureDelete);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE alert_rollups;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_derived_delete;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_derived_update;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_derived_insert;");
            migrationBuilder.Sql("DROP TABLE feedback_rollups_sentiment;");
            migrationBuilder.Sql("DROP TABLE feedback_rollups_daily;");
        }
    }
}
