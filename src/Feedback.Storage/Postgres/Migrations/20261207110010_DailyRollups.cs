using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// Two narrower sums of the hourly rollups that GET /stats reads instead of summing every hour and key of its range
    /// (issue #23: a month of hours holds up to 720 x 144 rollup rows): per day and key (feedback_rollups_daily) and per
    /// hour, sentiment and alert (feedback_rollups_sentiment). Every change to the rollups now goes through one function,
    /// feedback_rollups_add, which upserts the three tables one after the other, each in key order: the writer's
    /// per-commit deltas, the delete trigger and retention's add-back call it. The fill sums the rollups there are.
    /// Alerts are counted per hour raised x state (alert_rollups) by row triggers on alerts deferred to the commit, so
    /// /stats reads its hours instead of counting alerts; the fill counts the alerts there are. The dashboard reads a
    /// group's latest members through an index on (group_id, id), which SQLite's index on group_id is by itself.
    /// </summary>
    public partial class DailyRollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(RollupsSql.CreateDerivedTablesPostgres);
            migrationBuilder.Sql(RollupsSql.PostgresAddFunction);
            migrationBuilder.Sql(RollupsSql.PostgresDeletedFunction);
            migrationBuilder.Sql(RollupsSql.DerivedFillSql(postgres: true));
            migrationBuilder.Sql(RollupsSql.PostgresAlertRollups);
            migrationBuilder.Sql(RollupsSql.AlertFillSql(postgres: true));
            migrationBuilder.Sql("CREATE INDEX ix_alerts_group_id_id ON alerts (group_id, id);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION feedback_rollups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO feedback_rollups AS r (hour, sentiment, topic, processing_method, alert_triggered, count)
                    SELECT date_trunc('hour', created_at, 'UTC'), sentiment, topic, processing_method, alert_triggered, -count(*)
                    FROM gone GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
                    ON CONFLICT (hour, sentiment, topic, processing_method, alert_triggered) DO UPDATE SET count = r.count + excluded.count;
                    RETURN NULL;
                END
                $$;
                """);
            migrationBuilder.Sql("DROP INDEX ix_alerts_group_id_id;");
            migrationBuilder.Sql("DROP TABLE alert_rollups;");
            migrationBuilder.Sql("DROP FUNCTION alert_rollups_count();");
            migrationBuilder.Sql("DROP FUNCTION feedback_rollups_add(feedback_rollups[]);");
            migrationBuilder.Sql("DROP TABLE feedback_rollups_sentiment;");
            migrationBuilder.Sql("DROP TABLE feedback_rollups_daily;");
        }
    }
}
