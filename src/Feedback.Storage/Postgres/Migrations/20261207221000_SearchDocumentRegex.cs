using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// feedback_search_document blanks the same 49 punctuation characters with one regular expression instead of
    /// translate(), which scans its whole list of (multi-byte) characters for every character of the text: the same
    /// document for every text, and about a tenth of the cost per row (bench/RESULTS.md, the import into PostgreSQL), which
    /// every insert pays for the search index. As the two map each character alike, the index built with the old body
    /// stays valid and is not rebuilt.
    /// </summary>
    public partial class SearchDocumentRegex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION feedback_search_document(document text) RETURNS tsvector
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                RETURN to_tsvector('simple'::regconfig, regexp_replace(
                    unaccent('unaccent'::regdictionary, document),
                    E'[!"#$%&\'()*+,\\-./:;<=>?@[\\\\\\]^_`{|}~\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u00AB\u00BB\u2039\u203A\u2013\u2014\u2026\u00B7\u00A1\u00BF]',
                    ' ', 'g'));
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION feedback_search_document(document text) RETURNS tsvector
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                RETURN to_tsvector('simple'::regconfig, translate(
                    unaccent('unaccent'::regdictionary, document),
                    E'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u00AB\u00BB\u2039\u203A\u2013\u2014\u2026\u00B7\u00A1\u00BF',
                    repeat(' ', 49)));
                """);
        }
    }
}
