using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <summary>
    /// Counts of messages per hour x sentiment x topic x processing method x alert (feedback_rollups), which GET /stats
    /// sums instead of counting the rows of its range: its cost follows the hours asked for, not the table. Triggers keep
    /// them in the transaction that changes a row, so every writer counts alike (the server's, the CLI's import, a
    /// revision, erasure, retention) and none can forget to. The fill counts the rows a store already holds; erasure's
    /// lookup by customer gets the index it lacked.
    /// </summary>
    public partial class Rollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(RollupsSql.CreateTable);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_rollups_insert AFTER INSERT ON feedback BEGIN
                    INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
                    VALUES (substr(new.created_at, 1, 13) || ':00:00', new.sentiment, new.topic, new.processing_method, new.alert_triggered, 1)
                    ON CONFLICT DO UPDATE SET count = count + 1;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_rollups_delete AFTER DELETE ON feedback BEGIN
                    INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
                    VALUES (substr(old.created_at, 1, 13) || ':00:00', old.sentiment, old.topic, old.processing_method, old.alert_triggered, -1)
                    ON CONFLICT DO UPDATE SET count = count - 1;
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_rollups_update AFTER UPDATE OF created_at, sentiment, topic, processing_method, alert_triggered ON feedback
                WHEN substr(old.created_at, 1, 13) IS NOT substr(new.created_at, 1, 13) OR old.sentiment IS NOT new.sentiment
                    OR old.topic IS NOT new.topic OR old.processing_method IS NOT new.processing_method OR old.alert_triggered IS NOT new.alert_triggered
                BEGIN
                    INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
                    VALUES (substr(old.created_at, 1, 13) || ':00:00', old.sentiment, old.topic, old.processing_method, old.alert_triggered, -1)
                    ON CONFLICT DO UPDATE SET count = count - 1;
                    INSERT INTO feedback_rollups (hour, sentiment, topic, processing_method, alert_triggered, count)
                    VALUES (substr(new.created_at, 1, 13) || ':00:00', new.sentiment, new.topic, new.processing_method, new.alert_triggered, 1)
                    ON CONFLICT DO UPDATE SET count = count + 1;
                END;
                """);
            migrationBuilder.Sql(RollupsSql.SqliteFill);
            migrationBuilder.Sql("CREATE INDEX ix_feedback_customer_id ON feedback (customer_id);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_feedback_customer_id;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_update;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_delete;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_insert;");
            migrationBuilder.Sql("DROP TABLE feedback_rollups;");
        }
    }
}
