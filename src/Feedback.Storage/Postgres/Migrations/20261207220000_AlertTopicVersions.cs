using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// One row per topic whose alert groups changed (alert_topic_versions), so that a writer holding a topic's open groups in
    /// memory (PostgresWriter.OpenGroups) reads the row under the topic's lock and reads the groups again only when someone
    /// else changed them. The writer's grouping moves the row on itself, stamped with its commit's token, and says so in a
    /// transaction-local setting for the length of its statements; every other change of alert_groups (a resolution, a
    /// budget page stored statement by statement, another process's or an operator's SQL) moves it on through the trigger,
    /// stamped 0: changed by no writer.
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
            migrationBuilder.Sql("""
                CREATE FUNCTION alert_topic_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO alert_topic_versions AS v (topic, version, changed_by)
                    VALUES (NEW.topic, 1, 0)
                    ON CONFLICT (topic) DO UPDATE SET version = v.version + 1, changed_by = 0;
                    RETURN NULL;
                END
                $$;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER alert_groups_changed AFTER INSERT OR UPDATE ON alert_groups FOR EACH ROW
                WHEN (coalesce(current_setting('feedback.grouping_token', true), '') = '') EXECUTE FUNCTION alert_topic_changed();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER alert_groups_changed ON alert_groups;");
            migrationBuilder.Sql("DROP FUNCTION alert_topic_changed();");
            migrationBuilder.Sql("DROP TABLE alert_topic_versions;");
        }
    }
}
