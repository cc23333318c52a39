using Feedback.Api.Alerts;
using Shouldly;
using Feedback.Storage.Alerts;

namespace Feedback.Api.Tests;

/// <summary>The writer's wake-ups of the alert dispatcher: none lost, many coalesced into one.</summary>
public sealed class AlertSignalTests
{
    [Fact]
    public void A_notification_before_the_wait_completes_it_at_once_and_many_count_as_one()
    {
        var signal = new AlertSignal();
        signal.Notify();
        signal.Notify();
        signal.Notify();

        signal.WaitAsync(TestContext.Current.CancellationToken).IsCompletedSuccessfully.ShouldBeTrue();
        signal.WaitAsync(TestContext.Current.CancellationToken).IsCompleted.ShouldBeFalse();
    }

    [Fact]
    public async Task A_waiting_dispatcher_is_woken_by_the_next_notification()
    {
        var signal = new AlertSignal();
        var wait = signal.WaitAsync(TestContext.Current.CancellationToken);
        wait.IsCompleted.ShouldBeFalse();

        signal.Notify();
        await wait.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // The notification was this wake-up's: the next wait waits for a new one.
        signal.WaitAsync(TestContext.Current.CancellationToken).IsCompleted.ShouldBeFalse();
    }

    [Fact]
    public async Task A_notification_during_the_feed_after_a_wake_up_is_kept_for_the_next_wait()
    {
        var signal = new AlertSignal();
        var wait = signal.WaitAsync(TestContext.Current.CancellationToken);
        signal.Notify();
        await wait.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        signal.Notify();

        signal.WaitAsync(TestContext.Current.CancellationToken).IsCompletedSuccessfully.ShouldBeTrue();
    }

    [Fact]
    public async Task Stopping_ends_a_wait_with_cancellation()
    {
        var signal = new AlertSignal();
        using var stopping = new CancellationTokenSource();
        var wait = signal.WaitAsync(stopping.Token);

        await stopping.CancelAsync();

        await Should.ThrowAsync<OperationCanceledException>(() => wait);
    }
}
