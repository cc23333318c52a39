using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <summary>
    /// A full-text index over feedback.text for ?q=: an FTS5 table whose content is the feedback table itself (the text
    /// is stored once), kept in step by triggers so every writer, the retention and erasure deletes included, updates it
    /// in the transaction that changes the row. unicode61 with remove_diacritics 2 folds case and accents as PostgreSQL's
    /// index does. 'rebuild' indexes the rows a store already holds.
    /// </summary>
    public partial class TextSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE feedback_search USING fts5(
                    text, content='feedback', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_search_insert AFTER INSERT ON feedback BEGIN
                    INSERT INTO feedback_search (rowid, text) VALUES (new.id, new.text);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_search_delete AFTER DELETE ON feedback BEGIN
                    INSERT INTO feedback_search (feedback_search, rowid, text) VALUES ('delete', old.id, old.text);
                END;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER feedback_search_update AFTER UPDATE OF text ON feedback BEGIN
                    INSERT INTO feedback_search (feedback_search, rowid, text) VALUES ('delete', old.id, old.text);
                    INSERT INTO feedback_search (rowid, text) VALUES (new.id, new.text);
                END;
                """);
            migrationBuilder.Sql("INSERT INTO feedback_search (feedback_search) VALUES ('rebuild');");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER feedback_search_update;");
            migrationBuilder.Sql("DROP TRIGGER feedback_search_delete;");
            migrationBuilder.Sql("DROP TRIGGER feedback_search_insert;");
            migrationBuilder.Sql("DROP TABLE feedback_search;");
        }
    }
}
