using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <inheritdoc />
    public partial class PartialIdempotencyKeyIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_feedback_idempotency_key",
                table: "feedback");

            migrationBuilder.CreateIndex(
                name: "ux_feedback_idempotency_key",
                table: "feedback",
                column: "idempotency_key",
                unique: true,
                filter: "idempotency_key IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ux_feedback_idempotency_key",
                table: "feedback");

            migrationBuilder.CreateIndex(
                name: "ux_feedback_idempotency_key",
                table: "feedback",
                column: "idempotency_key",
                unique: true);
        }
    }
}
