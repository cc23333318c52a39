using Feedback.Api.Redis;
using Feedback.Storage;
using StackExchange.Redis;

namespace Feedback.Api.Dashboard;

/// <summary>
/// With several instances behind a load balancer, a tab's stream is on one instance and the write may land on
/// another. Each instance publishes on a Redis channel when its writer commits (at most once a second) and tells
/// its own streams when another instance did; the message is only the sender's id. A publish that fails is tried
/// again a second later. Without Redis, or while it is down, a stream hears of its own instance's commits only.
/// </summary>
internal sealed partial class RedisChangeRelay(RedisLink redis, StoreChanges local, ChangeFeed feed, TimeProvider time, ILogger<RedisChangeRelay> logger)
    : BackgroundService
{
    private static readonly TimeSpan PublishGap = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan SubscribeRetry = TimeSpan.FromSeconds(5);

    private readonly string _instance = Guid.NewGuid().ToString("N");

    private string Channel => redis.KeyPrefix + "dashboard:changes";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // The last version the other instances were told of, taken before subscribing: a commit while the
            // subscription is still being made is announced once it is. A publish that fails (Redis slow, down, or
            // paused after another operation's failure) leaves it behind, so the next round tries again: a lost
            // notice would leave every tab on another instance stale until the next commit, which may not come.
            var announced = local.Version;
            while (!await redis.SubscribeAsync(Channel, OnMessage))
            {
                await Task.Delay(SubscribeRetry, time, stoppingToken);
            }

            LogSubscribed(logger);
            while (!stoppingToken.IsCancellationRequested)
            {
                var next = local.Next;
                if (local.Version == announced)
                {
                    await next.WaitAsync(stoppingToken);
                }

                var version = local.Version;
                var (published, _) = await redis.RunAsync("publish-change", db => db.PublishAsync(RedisChannel.Literal(Channel), _instance));
                if (published)
                {
                    announced = version;
                }

                await Task.Delay(PublishGap, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void OnMessage(string sender)
    {
        if (sender != _instance)
        {
            feed.Remote.Notify();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dashboard change notices are shared with the other instances through Redis")]
    private static partial void LogSubscribed(ILogger logger);
}
