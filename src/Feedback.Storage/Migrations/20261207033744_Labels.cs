using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Feedback.Storage.Migrations
{
    /// <inheritdoc />
    public partial class Labels : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "topic_scores",
                table: "feedback",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "labels",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    feedback_id = table.Column<long>(type: "INTEGER", nullable: false),
                    sentiment = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    topic = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    labelled_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    labelled_by = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labels", x => x.id);
                    table.ForeignKey(
                        name: "FK_labels_feedback_feedback_id",
                        column: x => x.feedback_id,
                        principalTable: "feedback",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_labels_feedback_id_id",
                table: "labels",
                columns: new[] { "feedback_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "labels");

            migrationBuilder.DropColumn(
                name: "topic_scores",
                table: "feedback");
        }
    }
}
