using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// A full-text index over feedback.text for ?q=: a GIN index on feedback_search_document(text), the 'simple'
    /// configuration (no stemming, no stop words) over the text unaccented and with punctuation blanked, so words are
    /// cut and folded as SQLite's FTS5 unicode61 tokenizer with remove_diacritics does: "example.com" is two words on
    /// both stores, not one host name. An expression index rather than a stored column: the table does not grow, and
    /// the writer needs no change. unaccent is a trusted extension, so the database's owner may create it.
    /// </summary>
    public partial class TextSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS unaccent;");

            // IMMUTABLE, so an index may use it; unaccent() itself is only STABLE because its rules file could change,
            // and naming the dictionary with its schema keeps the function independent of the caller's search_path.
            migrationBuilder.Sql("""
                CREATE FUNCTION feedback_search_document(document text) RETURNS tsvector
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                RETURN to_tsvector('simple'::regconfig, translate(
                    unaccent('unaccent'::regdictionary, document),
                    E'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u00AB\u00BB\u2039\u203A\u2013\u2014\u2026\u00B7\u00A1\u00BF',
                    repeat(' ', 49)));
                """);
            migrationBuilder.Sql("CREATE INDEX ix_feedback_search ON feedback USING gin (feedback_search_document(text));");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP INDEX ix_feedback_search;");
            migrationBuilder.Sql("DROP FUNCTION feedback_search_document(text);");
        }
    }
}
