using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Postgres.Migrations
{
    /// <summary>
    /// Replaces each stored <c>KEYNAME:Idempotency-Key</c> with its SHA-256 hex (<see cref="IdempotencyKeyDigest"/>), the
    /// form the server now stores and looks up. CLI import keys (<c>import:…</c>) are left as they are. Not reversible: a
    /// digest cannot be turned back into its key.
    /// </summary>
    public partial class IdempotencyKeyDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(
                "UPDATE feedback SET idempotency_key = encode(sha256(convert_to(idempotency_key, 'UTF8')), 'hex') " +
                "WHERE idempotency_key LIKE '%:%' AND idempotency_key NOT LIKE 'import:%';");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
