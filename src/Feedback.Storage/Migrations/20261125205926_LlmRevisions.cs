using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <inheritdoc />
    public partial class LlmRevisions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "feedback_revisions",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    feedback_id = table.Column<long>(type: "INTEGER", nullable: false),
                    revised_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    previous_sentiment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    previous_topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    previous_confidence = table.Column<double>(type: "REAL", nullable: false),
                    previous_method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    sentiment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    confidence = table.Column<double>(type: "REAL", nullable: false),
                    method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    prompt_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    model = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feedback_revisions", x => x.id);
                    table.ForeignKey(
                        name: "FK_feedback_revisions_feedback_feedback_id",
                        column: x => x.feedback_id,
                        principalTable: "feedback",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_feedback_provisional",
                table: "feedback",
                column: "status",
                filter: "status = 'provisional'");

            migrationBuilder.CreateIndex(
                name: "ix_feedback_revisions_feedback_id",
                table: "feedback_revisions",
                column: "feedback_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "feedback_revisions");

            migrationBuilder.DropIndex(
                name: "ix_feedback_provisional",
                table: "feedback");
        }
    }
}
