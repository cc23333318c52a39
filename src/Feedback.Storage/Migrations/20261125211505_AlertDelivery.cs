using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <inheritdoc />
    public partial class AlertDelivery : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "group_id",
                table: "alerts",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "severity",
                table: "alerts",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "alert_groups",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    topic = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    severity = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    fingerprint = table.Column<long>(type: "INTEGER", nullable: false),
                    first_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    last_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    count = table.Column<int>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    resolved_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    dedup_key = table.Column<string>(type: "TEXT", maxLength: 100, nullable: true),
                    summary = table.Column<string>(type: "TEXT", maxLength: 400, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alert_groups", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "alert_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    group_id = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    next_attempt_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    last_error = table.Column<string>(type: "TEXT", maxLength: 300, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    delivered_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_alert_deliveries", x => x.id);
                    table.ForeignKey(
                        name: "FK_alert_deliveries_alert_groups_group_id",
                        column: x => x.group_id,
                        principalTable: "alert_groups",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_alerts_group_id",
                table: "alerts",
                column: "group_id");

            migrationBuilder.CreateIndex(
                name: "ix_alert_deliveries_state_next_attempt_at",
                table: "alert_deliveries",
                columns: new[] { "state", "next_attempt_at" });

            migrationBuilder.CreateIndex(
                name: "ux_alert_deliveries_group_kind_channel",
                table: "alert_deliveries",
                columns: new[] { "group_id", "kind", "channel" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_alert_groups_state_topic_first_at",
                table: "alert_groups",
                columns: new[] { "state", "topic", "first_at" });

            migrationBuilder.CreateIndex(
                name: "ux_alert_groups_dedup_key",
                table: "alert_groups",
                column: "dedup_key",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "FK_alerts_alert_groups_group_id",
                table: "alerts",
                column: "group_id",
                principalTable: "alert_groups",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_alerts_alert_groups_group_id",
                table: "alerts");

            migrationBuilder.DropTable(
                name: "alert_deliveries");

            migrationBuilder.DropTable(
                name: "alert_groups");

            migrationBuilder.DropIndex(
                name: "ix_alerts_group_id",
                table: "alerts");

            migrationBuilder.DropColumn(
                name: "group_id",
                table: "alerts");

            migrationBuilder.DropColumn(
                name: "severity",
                table: "alerts");
        }
    }
}
