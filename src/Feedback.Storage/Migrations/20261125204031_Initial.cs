using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "feedback",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    text = table.Column<string>(type: "TEXT", nullable: false),
                    source = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    customer_id = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    metadata = table.Column<string>(type: "TEXT", nullable: true),
                    sentiment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    confidence = table.Column<double>(type: "REAL", nullable: false),
                    confidence_score = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    score_positive = table.Column<double>(type: "REAL", nullable: false),
                    score_negative = table.Column<double>(type: "REAL", nullable: false),
                    score_neutral = table.Column<double>(type: "REAL", nullable: false),
                    score_mixed = table.Column<double>(type: "REAL", nullable: false),
                    alert_triggered = table.Column<bool>(type: "INTEGER", nullable: false),
                    processing_method = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    language = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    prompt_version = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    model = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    warnings = table.Column<string>(type: "TEXT", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    idempotency_key = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    request_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_feedback", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "store_heartbeat",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false),
                    at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_store_heartbeat", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "alerts",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    feedback_id = table.Column<long>(type: "INTEGER", nullable: false),
                    sentiment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    confidence = table.Column<double>(type: "REAL", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alerts", x => x.id);
                    table.ForeignKey(
                        name: "FK_alerts_feedback_feedback_id",
                        column: x => x.feedback_id,
                        principalTable: "feedback",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_alerts_feedback_id",
                table: "alerts",
                column: "feedback_id");

            migrationBuilder.CreateIndex(
                name: "ix_alerts_state_created_at",
                table: "alerts",
                columns: new[] { "state", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_feedback_alert_triggered",
                table: "feedback",
                column: "alert_triggered");

            migrationBuilder.CreateIndex(
                name: "ix_feedback_created_at",
                table: "feedback",
                column: "created_at");

            migrationBuilder.CreateIndex(
                name: "ix_feedback_sentiment",
                table: "feedback",
                column: "sentiment");

            migrationBuilder.CreateIndex(
                name: "ix_feedback_topic",
                table: "feedback",
                column: "topic");

            migrationBuilder.CreateIndex(
                name: "ux_feedback_idempotency_key",
                table: "feedback",
                column: "idempotency_key",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "alerts");

            migrationBuilder.DropTable(
                name: "store_heartbeat");

            migrationBuilder.DropTable(
                name: "feedback");
        }
    }
}
