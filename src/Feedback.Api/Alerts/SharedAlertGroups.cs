using System.Globalization;
using Feedback.Api.Redis;
using Feedback.Storage.Alerts;
using StackExchange.Redis;

namespace Feedback.Api.Alerts;

/// <summary>
/// Groups similar alerts across instances (REDIS_URL). A group is claimed with keys per band of its grouping
/// fingerprint (<see cref="AlertPolicy.GroupingFingerprint"/>, by meaning or by words, each kind under keys of its own):
/// the 64 bits are cut into one band more than the kind's most bits apart (<c>ALERT_MEANING_BITS</c> or
/// <c>ALERT_SIMILARITY_BITS</c>), so two fingerprints at most that many bits apart agree exactly on at least one band
/// (pigeonhole). One Lua script looks up the bands, checks the real distance and
/// either joins the group found or claims the free bands for a new one (SET NX), all atomically, with the
/// grouping window as time to live. Without Redis, or while it is down, <see cref="JoinAsync"/> answers null
/// and the store groups alone, as on a single instance.
/// </summary>
internal sealed class SharedAlertGroups(RedisLink? redis, AlertPolicy policy)
{
    // KEYS: the band keys, the counter key of the new group, then the claim key of the request's Idempotency-Key.
    // ARGV: fingerprint high and low 32 bits, the most bits apart, the new group's key, window in ms, now in ms, the
    // counter key prefix, and 1 when the request carries an Idempotency-Key (0: the claim key is not used).
    // Band values are "group|high|low|first_ms". Returns {opened 1/0, group, first_ms, count}.
    // A request carrying a key claims it with its answer: the same key again within the window (the same request
    // sent twice, both in flight) gets that answer back and counts nothing, so one message counts once in its group.
    // The counter of a group that is joined is named from its key (ARGV[7] .. group): fine on one Redis
    // server, which is what REDIS_URL names; a cluster would need hash tags.
    private const string Script = """
        local hi = tonumber(ARGV[1])
        local lo = tonumber(ARGV[2])
        local most = tonumber(ARGV[3])
        local bands = #KEYS - 2
        local claim = ARGV[8] == '1' and KEYS[#KEYS] or nil
        if claim then
          local earlier = redis.call('GET', claim)
          if earlier then
            local opened, group, first, count = string.match(earlier, '^([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
            return {tonumber(opened), group, first, tonumber(count)}
          end
        end
        local function ones(x)
          local n = 0
          while x ~= 0 do
            x = bit.band(x, x - 1)
            n = n + 1
          end
          return n
        end
        local function answer(opened, group, first, count)
          if claim then
            redis.call('SET', claim, opened .. '|' .. group .. '|' .. first .. '|' .. count, 'PX', ARGV[5])
          end
          return {opened, group, first, count}
        end
        for i = 1, bands do
          local value = redis.call('GET', KEYS[i])
          if value then
            local group, ghi, glo, first = string.match(value, '^([^|]+)|([^|]+)|([^|]+)|([^|]+)$')
            if group and ones(bit.bxor(hi, tonumber(ghi))) + ones(bit.bxor(lo, tonumber(glo))) <= most then
              return answer(0, group, first, redis.call('INCR', ARGV[7] .. group))
            end
          end
        end
        local value = ARGV[4] .. '|' .. ARGV[1] .. '|' .. ARGV[2] .. '|' .. ARGV[6]
        for i = 1, bands do
          redis.call('SET', KEYS[i], value, 'PX', ARGV[5], 'NX')
        end
        redis.call('SET', KEYS[bands + 1], 1, 'PX', ARGV[5])
        return answer(1, ARGV[4], ARGV[6], 1)
        """;

    /// <summary>Whether alerts are grouped with other instances (REDIS_URL is set).</summary>
    public bool IsShared => redis is not null;

    /// <summary>
    /// The shared group this alert belongs to, or null when alerts are grouped by this instance alone. With an
    /// <paramref name="idempotencyKey"/> (scoped to its API key), the same key within the grouping window gets the same
    /// answer and is not counted again.
    /// </summary>
    public ValueTask<SharedGroup?> JoinAsync(string topic, string text, byte[]? embedding, DateTime at, string? idempotencyKey = null) =>
        redis is null ? ValueTask.FromResult<SharedGroup?>(null) : JoinSharedAsync(redis, topic, policy.GroupingFingerprint(text, embedding), at, idempotencyKey);

    /// <summary>
    /// Apart from <see cref="JoinAsync"/>: compiling a method that names StackExchange.Redis's types loads that
    /// assembly, so a server without Redis would map it at its first alert if this sat in JoinAsync.
    /// </summary>
    private async ValueTask<SharedGroup?> JoinSharedAsync(RedisLink redis, string topic, long grouping, DateTime at, string? idempotencyKey)
    {
        var fingerprint = (ulong)grouping;
        var bits = Math.Clamp(policy.BitsFor(grouping), 0, 63);
        var kind = MeaningFingerprint.IsMeaning(grouping) ? "meaning" : "words";
        var bandCount = bits + 1;
        var keys = new RedisKey[bandCount + 2];
        var start = 0;
        for (var band = 0; band < bandCount; band++)
        {
            // Widths differ by at most one bit so that every band is as selective as it can be.
            var width = (64 / bandCount) + (band < 64 % bandCount ? 1 : 0);
            var value = width == 64 ? fingerprint : (fingerprint >> start) & ((1UL << width) - 1);
            keys[band] = $"{redis.KeyPrefix}alert-band:{topic}:{kind}:{band}:{value:x}";
            start += width;
        }

        var groupKey = Guid.NewGuid().ToString("N");
        var counterPrefix = $"{redis.KeyPrefix}alert-group:";
        keys[bandCount] = counterPrefix + groupKey;
        keys[bandCount + 1] = $"{redis.KeyPrefix}alert-claim:{idempotencyKey}";
        var now = new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var (done, result) = await redis.RunAsync("alert_group", db => db.ScriptEvaluateAsync(Script, keys,
        [
            (long)(fingerprint >> 32), (long)(fingerprint & 0xFFFF_FFFF), bits, groupKey,
            Math.Max(1, (long)Math.Ceiling(policy.Window.TotalMilliseconds)), now, counterPrefix, idempotencyKey is null ? 0 : 1,
        ]));
        if (!done)
        {
            return null;
        }

        var answer = (RedisResult[])result!;
        var group = (string)answer[1]!;
        var firstAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)answer[2]!, NumberStyles.None, CultureInfo.InvariantCulture)).UtcDateTime;

        // A group this very call opened starts at this alert's own time; Redis holds it to the millisecond only.
        return new SharedGroup(group, First: (int)answer[0] == 1, group == groupKey ? at : firstAt, (int)answer[3]);
    }
}
