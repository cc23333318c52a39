using System.Text.Json;

namespace Feedback.Api.Tests.Infrastructure;

/// <summary>Waits for background work (themes, alerts) to reach a state the test can check.</summary>
public static class Eventually
{
    /// <summary>
    /// Background work has no fixed duration: this waits for it (ten minutes are a generous guard against a hang), it does
    /// not time it. <paramref name="attempt"/> answers null until the state is reached.
    /// </summary>
    public static async Task<JsonElement> ReachedAsync(Func<Task<JsonElement?>> attempt)
    {
        var deadline = DateTime.UtcNow.AddMinutes(10);
        while (DateTime.UtcNow < deadline)
        {
            if (await attempt() is { } done)
            {
                return done;
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }

        throw new TimeoutException("The service never reached the expected state.");
    }
}
