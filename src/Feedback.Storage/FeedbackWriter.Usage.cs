using Feedback.Analysis.Llm;
using Feedback.Storage.Alerts;

namespace Feedback.Storage;

internal sealed partial class FeedbackWriter
{
    /// <summary>The LLM usage half of the writer's statements: the hourly counts and the budget's alerts.</summary>
    private sealed partial class Statements
    {
        private readonly LlmBudgetAlerts _budget;

        // A commit's usage by hour, written once at its end: one upsert an hour however many answers it carries.
        private readonly Dictionary<DateTime, LlmUsage> _usage = [];
        private DateTime _lastSpentAt;

        private RawStatement _addUsage = null!;
        private RawStatement _monthTokens = null!;
        private RawStatement _raiseBudgetAlert = null!;

        /// <summary>Counts LLM calls in this commit, in the hour of <paramref name="at"/>.</summary>
        public void Spend(LlmUsage usage, DateTime at)
        {
            if (usage.IsNone)
            {
                return;
            }

            var hour = LlmPricing.HourOf(at);
            _usage[hour] = _usage.GetValueOrDefault(hour) + usage;
            _lastSpentAt = at > _lastSpentAt ? at : _lastSpentAt;
        }

        /// <summary>Drops the usage held for this commit: after it is written, or when a commit starts afresh.</summary>
        private void ForgetUsage()
        {
            _usage.Clear();
            _lastSpentAt = default;
        }

        private void PrepareUsageStatements()
        {
            _addUsage = Raw(
                "INSERT INTO llm_usage (hour, calls, input_tokens, output_tokens) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hour) DO UPDATE SET " +
                "calls = calls + excluded.calls, input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens");
            _monthTokens = Raw("SELECT coalesce(sum(input_tokens + output_tokens), 0) FROM llm_usage WHERE hour >= ?1 AND hour < ?2");
            _raiseBudgetAlert = Raw(
                "INSERT INTO alert_groups (kind, topic, severity, fingerprint, first_at, last_at, count, state, dedup_key, summary) " +
                $"VALUES ('{LlmBudgetAlerts.Kind}', '{LlmBudgetAlerts.Topic}', ?1, 0, ?2, ?2, 1, 'open', ?3, ?4) ON CONFLICT (dedup_key) DO NOTHING RETURNING id");
        }

        /// <summary>
        /// Adds the commit's usage to its hours and raises the budget alerts the months' totals reached. The writer holds
        /// SQLite's write lock, so the totals it reads are every writer's (the CLI's on the same file included).
        /// </summary>
        private void WriteUsage()
        {
            if (_usage.Count == 0)
            {
                return;
            }

            var months = new HashSet<DateTime>();
            foreach (var (hour, usage) in _usage)
            {
                _addUsage.Bind(1, hour).Bind(2, usage.Calls).Bind(3, usage.InputTokens).Bind(4, usage.OutputTokens).Execute();
                months.Add(LlmPricing.MonthOf(hour));
            }

            var at = _lastSpentAt;
            ForgetUsage();
            if (!_budget.Enabled)
            {
                return;
            }

            foreach (var month in months)
            {
                var tokens = _monthTokens.Bind(1, month).Bind(2, month.AddMonths(1)).ScalarInt64() ?? 0;
                foreach (var alert in _budget.Reached(month, tokens))
                {
                    var groupId = _raiseBudgetAlert.Bind(1, alert.Severity).Bind(2, at).Bind(3, alert.DedupKey).Bind(4, alert.Summary).ScalarInt64();
                    if (groupId is not long id)
                    {
                        continue;
                    }

                    foreach (var delivery in _grouping.SpikeDeliveries(alert.Severity, at))
                    {
                        QueueDelivery(id, delivery.Kind, delivery.Channel, delivery.Due, at);
                    }
                }
            }
        }
    }
}
