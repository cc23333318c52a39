using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// One row per topic whose alert groups changed (alert_topic_versions): every transaction that opens, joins or resolves
    /// a topic's feedback groups adds one to its version and stamps it with the commit's token (0 when no writer holds the
    /// result), so a writer that holds a topic's open groups in memory reads this row under the topic's lock and reads the
    /// groups again only when someone else changed them (PostgresWriter.OpenGroups).
    /// </summary>
    public partial class AlertTopicVersions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE alert_topic_versions (
                    topic text PRIMARY KEY,
                    version bigint NOT NULL,
                    changed_by bigint NOT NULL
                );
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TABLE alert_topic_versions;");
        }
    }
}
