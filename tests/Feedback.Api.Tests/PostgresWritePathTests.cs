using Feedback.Api.Tests.Infrastructure;
using Feedback.Storage;
using Feedback.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// The PostgreSQL writer's round trips and its commits in flight (issue 25), on the real server: a writer of the app's own
/// making, whose connections pass through a counting proxy, so the app's background loops are not counted.
/// </summary>
public sealed class PostgresWritePathTests : IAsyncLifetime
{
    private PostgresDatabase _database = null!;
    private FeedbackApp _app = null!;
    private RoundTripCounter _proxy = null!;
    private NpgsqlDataSource _dataSource = null!;
    private PostgresWriter _writer = null!;

    public async ValueTask InitializeAsync()
    {
        _database = PostgresDatabase.Create();
        _app = new FeedbackApp(_database);
        var services = _app.Services;
        var direct = new NpgsqlConnectionStringBuilder(_database.ConnectionString);
        _proxy = RoundTripCounter.Start(direct.Host!, direct.Port);
        var proxied = new NpgsqlConnectionStringBuilder(services.GetRequiredService<PostgresStoreSettings>().ConnectionString)
        {
            Host = "127.0.0.1",
            Port = _proxy.Port,

            // A batch larger than Npgsql's 8 KB write buffer goes out in several writes, and the server may answer a
            // statement at its head (ReadyForQuery included) before the rest arrives: no wait, but the proxy could not
            // tell it from a second round trip. With room for the whole batch, each write is one batch.
            WriteBufferSize = 64 * 1024,
        };
        _dataSource = NpgsqlDataSource.Create(proxied.ConnectionString);
        _writer = ActivatorUtilities.CreateInstance<PostgresWriter>(services, _dataSource);
        await _writer.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None);
        _writer.Dispose();
        await _dataSource.DisposeAsync();
        await _proxy.DisposeAsync();
        _app.Dispose();
        _database.Dispose();
    }

    [Fact]
    public async Task A_commit_of_messages_is_one_round_trip_its_commit_included()
    {
        var ct = TestContext.Current.CancellationToken;

        // The first commits open the connections and prepare the statements: sequential ones, then concurrent ones, so
        // that both connections of the two commits in flight exist and have seen each statement before the count.
        for (var i = 0; i < 3; i++)
        {
            await _writer.WriteAsync(Message($"Warm-up message {i}, nothing to report."), ct);
        }

        for (var round = 0; round < 3; round++)
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(i => _writer.WriteAsync(Message($"Concurrent warm-up {round}-{i}, nothing to report."), ct)));
        }

        var before = _proxy.RoundTrips;
        var logged = _proxy.Log.Count;
        var ids = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            var written = await _writer.WriteAsync(Message($"The app works well for me, message {i}."), ct);
            written.Outcome.ShouldBe(WriteOutcome.Created);
            ids.Add(written.Record.Id);
        }

        var batch = await _writer.WriteBatchAsync([.. Enumerable.Range(0, 50).Select(i => Message($"Imported message {i} of the batch."))], ct);

        (_proxy.RoundTrips - before).ShouldBe(11, string.Join(" ", _proxy.Log.Skip(logged)));
        batch.ShouldAllBe(r => r.Outcome == WriteOutcome.Created);
        Count($"SELECT count(*) FROM feedback WHERE id IN ({string.Join(", ", ids)})").ShouldBe(10);
        Count("SELECT count(*) FROM feedback").ShouldBe(3 + 24 + 10 + 50);
    }

    /// <summary>What the one-round-trip commit stands on: a batch sent without a transaction is one implicit transaction.</summary>
    [Fact]
    public async Task A_batch_without_a_transaction_commits_all_of_its_statements_or_none()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = _database.Open();
        await using (var create = new NpgsqlCommand("CREATE TABLE implicit_probe (v int CHECK (v > 0))", connection))
        {
            await create.ExecuteNonQueryAsync(ct);
        }

        await using (var failing = new NpgsqlBatch(connection)
        {
            BatchCommands = { new("INSERT INTO implicit_probe VALUES (1)"), new("INSERT INTO implicit_probe VALUES (2)"), new("INSERT INTO implicit_probe VALUES (-1)") },
        })
        {
            (await Should.ThrowAsync<PostgresException>(() => failing.ExecuteNonQueryAsync(ct))).SqlState.ShouldBe(PostgresErrorCodes.CheckViolation);
        }

        await using (var passing = new NpgsqlBatch(connection)
        {
            BatchCommands = { new("INSERT INTO implicit_probe VALUES (3)"), new("INSERT INTO implicit_probe VALUES (4)") },
        })
        {
            await passing.ExecuteNonQueryAsync(ct);
        }

        Count("SELECT count(*) FROM implicit_probe").ShouldBe(2);
        Count("SELECT sum(v) FROM implicit_probe").ShouldBe(7);
    }

    [Fact]
    public async Task A_commit_with_alerts_is_two_round_trips_its_commit_included()
    {
        var ct = TestContext.Current.CancellationToken;
        await _writer.WriteAsync(Message("Warm-up complaint: the export crashes.", alert: true), ct);
        await _writer.WriteAsync(Message("Warm-up complaint: the export crashes again.", alert: true), ct);

        var before = _proxy.RoundTrips;
        var written = await _writer.WriteBatchAsync(
            [
                Message("The export crashes every time I press it.", alert: true),
                Message("Billing charged me twice this month.", alert: true, topic: "billing"),
                Message("The export crashes every time I press it!", alert: true),
                Message("A fine product, nothing to add."),
            ],
            ct);

        // BEGIN, the inserts, the topics' locks and groups; then the groups, alerts, deliveries and COMMIT.
        (_proxy.RoundTrips - before).ShouldBe(2);
        written.ShouldAllBe(r => r.Outcome == WriteOutcome.Created);
        Count("SELECT count(*) FROM alerts").ShouldBe(5);
        // The same complaint twice in one commit: the second joins the group the first opened in that commit.
        Count("SELECT count(DISTINCT a.group_id) FROM alerts a JOIN feedback f ON f.id = a.feedback_id WHERE f.text LIKE 'The export crashes every time%'")
            .ShouldBe(1);
        Count("SELECT min(g.count) FROM alert_groups g JOIN alerts a ON a.group_id = g.id JOIN feedback f ON f.id = a.feedback_id " +
            "WHERE f.text LIKE 'The export crashes every time%'").ShouldBeGreaterThanOrEqualTo(2);
        Count("SELECT count(*) FROM alert_groups WHERE topic = 'billing'").ShouldBe(1);
        Count("SELECT count(*) FROM alert_deliveries d JOIN alert_groups g ON g.id = d.group_id WHERE g.topic = 'billing'").ShouldBeGreaterThan(0);
    }

    [Fact]
    public async Task Two_requests_with_one_key_in_two_commits_in_flight_give_one_row_and_a_replay()
    {
        var ct = TestContext.Current.CancellationToken;
        await _writer.WriteAsync(Message("Warm-up message."), ct);

        // Another session holds a key uncommitted: the first commit inserts "shared-key" and then waits on that key.
        await using var other = _database.Open();
        await using var hold = await other.BeginTransactionAsync(ct);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO feedback (text, sentiment, topic, confidence, confidence_score, score_positive, score_negative, score_neutral, " +
            "score_mixed, alert_triggered, processing_method, language, model, status, warnings, created_at, idempotency_key, request_hash) " +
            "VALUES ('held', 'neutral', 'general', 0.5, 'low', 0, 0, 1, 0, false, 'ml', 'en', 'm', 'final', '[]', now(), 'held-key', 'h')",
            other, hold))
        {
            await insert.ExecuteNonQueryAsync(ct);
        }

        var first = _writer.WriteBatchAsync([Message("The first request.", key: "shared-key"), Message("Held.", key: "held-key")], ct);
        await WaitForLockWaitersAsync(1);

        // The second request arrives while the first commit is in flight: it goes in a commit of its own, beside it.
        var second = _writer.WriteAsync(Message("The first request.", key: "shared-key"), ct);
        await WaitForLockWaitersAsync(2);

        await hold.CommitAsync(ct);
        var firstResults = await first;
        var secondResult = await second;

        firstResults[0].Outcome.ShouldBe(WriteOutcome.Created);
        firstResults[1].Outcome.ShouldBe(WriteOutcome.KeyReused);
        secondResult.Outcome.ShouldBe(WriteOutcome.Replayed);
        secondResult.Record.Id.ShouldBe(firstResults[0].Record.Id);
        Count("SELECT count(*) FROM feedback WHERE idempotency_key = 'shared-key'").ShouldBe(1);
    }

    [Fact]
    public async Task A_large_batch_copied_in_stores_every_row_as_given_and_settles_its_keys()
    {
        var ct = TestContext.Current.CancellationToken;
        var stored = await _writer.WriteAsync(Message("Stored before the import.", key: "k-stored"), ct);

        var items = new List<NewFeedback>();
        for (var i = 0; i < 200; i++)
        {
            var item = Message($"Imported row {i}: the app is \"fine\", mostly; ünïcode ✓.", key: i % 7 == 0 ? null : $"k-{i}");
            var r = item.Record;
            r.Source = i % 3 == 0 ? null : "zendesk";
            r.CustomerId = i % 5 == 0 ? null : $"c-{i}";
            r.Metadata = i % 4 == 0 ? "{\"plan\":\"pro\"}" : null;
            r.PromptVersion = i % 2 == 0 ? null : "v3";
            r.TopicScores = i % 2 == 0 ? "{\"bug\":0.7}" : null;
            r.Embedding = i % 6 == 0 ? null : [(byte)i, 0, 255, (byte)(i * 3)];
            r.ScoreMixed = i / 1000.0;
            r.CreatedAt = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i).AddTicks(i * 17);
            if (i == 20)
            {
                r.Status = "provisional";
                item = item with { Followed = true };
            }

            items.Add(item);
        }

        // The same request twice in the batch, a replay of a stored key, and a stored key reused with other text.
        items.Add(Message("Imported row 10: the app is \"fine\", mostly; ünïcode ✓.", key: "k-10") with { Record = Clone(items[10].Record) });
        items.Add(Message("Stored before the import.", key: "k-stored"));
        items.Add(Message("Other text under a stored key.", key: "k-stored"));

        var before = Count("SELECT count(*) FROM feedback");
        var results = await _writer.WriteBatchAsync(items, ct);

        results.Take(200).ShouldAllBe(r => r.Outcome == WriteOutcome.Created);
        results[200].Outcome.ShouldBe(WriteOutcome.Replayed);
        results[200].Record.Id.ShouldBe(results[10].Record.Id);
        results[201].Outcome.ShouldBe(WriteOutcome.Replayed);
        results[201].Record.Id.ShouldBe(stored.Record.Id);
        results[202].Outcome.ShouldBe(WriteOutcome.KeyReused);
        Count("SELECT count(*) FROM feedback").ShouldBe(before + 200);

        // Ids follow the batch's order, and every column holds what was given.
        var ids = results.Take(200).Select(r => r.Record.Id).ToList();
        ids.ShouldBe(ids.Order().ToList());
        await using var connection = _database.Open();
        await using var read = new NpgsqlCommand($"SELECT id, {FeedbackRowBinding.Columns} FROM feedback WHERE id = ANY(@ids) ORDER BY id", connection);
        read.Parameters.AddWithValue("ids", ids.ToArray());
        await using var reader = await read.ExecuteReaderAsync(ct);
        var row = 0;
        while (await reader.ReadAsync(ct))
        {
            var got = FeedbackRowBinding.Read(reader);
            var want = items[row].Record;
            got.Id.ShouldBe(ids[row]);
            (got.Text, got.Source, got.CustomerId, got.Metadata, got.Sentiment, got.Topic, got.ConfidenceScore)
                .ShouldBe((want.Text, want.Source, want.CustomerId, want.Metadata, want.Sentiment, want.Topic, want.ConfidenceScore));
            (got.Confidence, got.ScorePositive, got.ScoreNegative, got.ScoreNeutral, got.ScoreMixed, got.AlertTriggered)
                .ShouldBe((want.Confidence, want.ScorePositive, want.ScoreNegative, want.ScoreNeutral, want.ScoreMixed, want.AlertTriggered));
            (got.ProcessingMethod, got.Language, got.PromptVersion, got.Model, got.Status, got.Warnings)
                .ShouldBe((want.ProcessingMethod, want.Language, want.PromptVersion, want.Model, want.Status, want.Warnings));
            (got.CreatedAt, got.IdempotencyKey, got.RequestHash, got.TopicScores).ShouldBe((want.CreatedAt, want.IdempotencyKey, want.RequestHash, want.TopicScores));
            got.Embedding.ShouldBe(want.Embedding);
            row++;
        }

        row.ShouldBe(200);
        Count($"SELECT count(*) FROM feedback WHERE id = {ids[20]} AND claimed_by IS NOT NULL AND lease_until > created_at").ShouldBe(1);
        Count($"SELECT count(*) FROM feedback WHERE id = ANY(ARRAY[{string.Join(", ", ids)}]) AND (claimed_by IS NOT NULL OR lease_until IS NOT NULL)").ShouldBe(1);
    }

    /// <summary>A large batch whose keys are all new is copied straight into feedback, its ids in the batch's order.</summary>
    [Fact]
    public async Task A_large_batch_of_new_keys_is_stored_whole_with_ids_in_its_order()
    {
        var ct = TestContext.Current.CancellationToken;
        var items = Enumerable.Range(0, 300).Select(i => Message($"Imported row {i}, all new.", key: $"new-{i}")).ToList();

        var results = await _writer.WriteBatchAsync(items, ct);

        results.ShouldAllBe(r => r.Outcome == WriteOutcome.Created);
        var ids = results.Select(r => r.Record.Id).ToList();
        ids.ShouldBe(ids.Order().ToList());
        ids.Distinct().Count().ShouldBe(300);
        Count($"SELECT count(*) FROM feedback WHERE id = ANY(ARRAY[{string.Join(", ", ids)}]) AND idempotency_key LIKE 'new-%'").ShouldBe(300);
        Count($"SELECT count(*) FROM feedback WHERE id = {ids[^1]} AND text = 'Imported row 299, all new.'").ShouldBe(1);

        // Sent again, every key is stored: each is answered as a replay of its row.
        var again = await _writer.WriteBatchAsync(items, ct);
        again.ShouldAllBe(r => r.Outcome == WriteOutcome.Replayed);
        again.Select(r => r.Record.Id).ShouldBe(ids);
        Count("SELECT count(*) FROM feedback").ShouldBe(300);
    }

    /// <summary>
    /// A writer holds a topic's open groups between commits: a group another writer (another instance) resolved must not
    /// be joined from that memory, and a later alert of its complaint opens a new group.
    /// </summary>
    [Fact]
    public async Task A_group_another_instance_resolved_is_not_joined_from_the_groups_a_writer_holds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var other = await OtherWriterAsync();
        const string complaint = "The export crashes every time I press it.";
        await _writer.WriteAsync(Message(complaint, alert: true), ct);
        await _writer.WriteAsync(Message(complaint, alert: true), ct);
        var first = Count("SELECT max(id) FROM alert_groups");
        Count($"SELECT count FROM alert_groups WHERE id = {first}").ShouldBe(2);

        (await other.Writer.ResolveGroupAsync(new GroupResolution(first, DateTime.UtcNow), ct)).ShouldBeTrue();
        var after = await _writer.WriteAsync(Message(complaint, alert: true), ct);

        var group = Count($"SELECT group_id FROM alerts WHERE feedback_id = {after.Record.Id}");
        group.ShouldNotBe(first);
        Count($"SELECT count FROM alert_groups WHERE id = {first}").ShouldBe(2);
        Count($"SELECT count(*) FROM alert_groups WHERE id = {group} AND state = 'open' AND count = 1").ShouldBe(1);
    }

    /// <summary>A group another instance opened after a writer read the topic's groups is joined, not opened twice.</summary>
    [Fact]
    public async Task A_group_another_instance_opened_is_joined_by_a_writer_that_held_the_topics_groups_before()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var other = await OtherWriterAsync();
        await _writer.WriteAsync(Message("The export crashes every time I press it.", alert: true), ct);

        const string complaint = "Billing charged me twice this month for one seat.";
        var opened = await other.Writer.WriteAsync(Message(complaint, alert: true), ct);
        var joined = await _writer.WriteAsync(Message(complaint, alert: true), ct);

        var group = Count($"SELECT group_id FROM alerts WHERE feedback_id = {opened.Record.Id}");
        Count($"SELECT group_id FROM alerts WHERE feedback_id = {joined.Record.Id}").ShouldBe(group);
        Count($"SELECT count FROM alert_groups WHERE id = {group}").ShouldBe(2);
        Count("SELECT count(*) FROM alert_groups").ShouldBe(2);

        // And the other way round: the second writer held the groups before the first joined, and sees the count it left.
        var third = await other.Writer.WriteAsync(Message(complaint, alert: true), ct);
        Count($"SELECT group_id FROM alerts WHERE feedback_id = {third.Record.Id}").ShouldBe(group);
        Count($"SELECT count FROM alert_groups WHERE id = {group}").ShouldBe(3);
    }

    /// <summary>
    /// Many alerts of one topic through one writer, in commits in flight together (each takes the topic's lock when the one
    /// before it committed and starts from the groups that one left): every complaint ends in one group counting all of it.
    /// </summary>
    [Fact]
    public async Task Alerts_of_one_topic_in_commits_in_flight_together_join_the_groups_the_commits_before_them_left()
    {
        var ct = TestContext.Current.CancellationToken;
        string[] complaints =
        [
            "The export crashes every time I press it.",
            "Billing charged me twice this month for one seat.",
            "The login page rejects my correct password.",
            "Search returns nothing for words I can see on the page.",
        ];
        await Task.WhenAll(Enumerable.Range(0, 80).Select(i => _writer.WriteAsync(Message(complaints[i % complaints.Length], alert: true), ct)));

        Count("SELECT count(*) FROM alert_groups").ShouldBe(complaints.Length);
        Count("SELECT min(count) FROM alert_groups").ShouldBe(20);
        Count("SELECT count(*) FROM alerts a JOIN alert_groups g ON g.id = a.group_id").ShouldBe(80);
    }

    /// <summary>A second writer of the app's own making on the same database, as another instance would have.</summary>
    private async Task<OtherWriter> OtherWriterAsync()
    {
        var dataSource = NpgsqlDataSource.Create(_app.Services.GetRequiredService<PostgresStoreSettings>().ConnectionString);
        var writer = ActivatorUtilities.CreateInstance<PostgresWriter>(_app.Services, dataSource);
        await writer.StartAsync(TestContext.Current.CancellationToken);
        return new OtherWriter(writer, dataSource);
    }

    private sealed record OtherWriter(PostgresWriter Writer, NpgsqlDataSource DataSource) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Writer.StopAsync(CancellationToken.None);
            Writer.Dispose();
            await DataSource.DisposeAsync();
        }
    }

    private static FeedbackRecord Clone(FeedbackRecord r) => new()
    {
        Text = r.Text, Source = r.Source, CustomerId = r.CustomerId, Metadata = r.Metadata, Sentiment = r.Sentiment, Topic = r.Topic,
        Confidence = r.Confidence, ConfidenceScore = r.ConfidenceScore, ScorePositive = r.ScorePositive, ScoreNegative = r.ScoreNegative,
        ScoreNeutral = r.ScoreNeutral, ScoreMixed = r.ScoreMixed, AlertTriggered = r.AlertTriggered, ProcessingMethod = r.ProcessingMethod,
        Language = r.Language, PromptVersion = r.PromptVersion, Model = r.Model, Status = r.Status, Warnings = r.Warnings, CreatedAt = r.CreatedAt,
        IdempotencyKey = r.IdempotencyKey, RequestHash = r.RequestHash, TopicScores = r.TopicScores, Embedding = r.Embedding,
    };

    private static NewFeedback Message(string text, bool alert = false, string topic = "bug", string? key = null) => new(
        new FeedbackRecord
        {
            Text = text,
            Sentiment = alert ? "negative" : "positive",
            Topic = topic,
            Confidence = 0.9,
            ConfidenceScore = "high",
            ScorePositive = alert ? 0.05 : 0.9,
            ScoreNegative = alert ? 0.9 : 0.05,
            ScoreNeutral = 0.05,
            AlertTriggered = alert,
            ProcessingMethod = "ml",
            Language = "en",
            Model = "test",
            Status = "final",
            CreatedAt = DateTime.UtcNow,
            IdempotencyKey = key,
            RequestHash = key is null ? null : "hash-of-" + text,
        },
        alert);

    /// <summary>Waits until that many of the writer's statements wait on a lock; the commits' progress has no fixed duration.</summary>
    private async Task WaitForLockWaitersAsync(int waiting)
    {
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (Count($"SELECT count(*) FROM pg_stat_activity WHERE datname = '{_database.Name}' AND wait_event_type = 'Lock'") >= waiting)
            {
                return;
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException($"Fewer than {waiting} of the writer's commits ever waited on a lock: they were not in flight together.");
    }

    private long Count(string sql)
    {
        using var connection = _database.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
