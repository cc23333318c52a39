namespace Feedback.Api.Hosting;

/// <summary>Makes the host build a singleton when it starts rather than at its first use (the deep tier starts loading then).</summary>
internal sealed class StartWithHost(object started) : IHostedService
{
    public object Started { get; } = started;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
