using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// Counts of messages per hour x sentiment x topic x processing method x alert (feedback_rollups), which GET /stats
    /// sums instead of counting the rows of its range. The writer adds its inserts and revisions in the commit that
    /// makes them, one upsert statement per commit in key order (PostgresWriter.Session); every delete (erasure,
    /// retention) subtracts through a statement trigger over the deleted rows, one upsert per hour and key, in the same
    /// key order, so two transactions never wait on each other's rollup rows in opposite orders. The fill counts the
    /// rows a store already holds; erasure's lookup by customer gets the index it lacked.
    /// </summary>
    public partial class Rollups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(RollupsSql.CreateTablePostgres);
            migrationBuilder.Sql("""
                CREATE FUNCTION feedback_rollups_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO feedback_rollups AS r (hour, sentiment, topic, processing_method, alert_triggered, count)
                    SELECT date_trunc('hour', created_at, 'UTC'), sentiment, topic, processing_method, alert_triggered, -count(*)
                    FROM gone GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
                    ON CONFLICT (hour, sentiment, topic, processing_method, alert_triggered) DO UPDATE SET count = r.count + excluded.count;
                    RETURN NULL;
                END
                $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_rollups_delete AFTER DELETE ON feedback
                REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION feedback_rollups_deleted();
                """);
            migrationBuilder.Sql(RollupsSql.PostgresFill);
            migrationBuilder.Sql("CREATE INDEX ix_feedback_customer_id ON feedback (customer_id);");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_feedback_customer_id;");
            migrationBuilder.Sql("DROP TRIGGER feedback_rollups_delete ON feedback;");
            migrationBuilder.Sql("DROP FUNCTION feedback_rollups_deleted();");
            migrationBuilder.Sql("DROP TABLE feedback_rollups;");
        }
    }
}
