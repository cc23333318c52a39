using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <summary>
    /// Marks the stored idempotency keys as digests (<see cref="IdempotencyKeyDigest"/>). SQLite cannot hash in SQL, so
    /// the rows are rewritten by <see cref="IdempotencyKeyDigest.HashStoredKeys"/> just before this migration is applied;
    /// PostgreSQL's migration of the same name does it in SQL. Not reversible: a digest cannot be turned back into its key.
    /// </summary>
    public partial class IdempotencyKeyDigests : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
        }
    }
}
