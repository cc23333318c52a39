namespace Feedback.Api;

/// <summary>
/// One kind of error the API answers with: the <c>type</c> of its problem details is <c>/problems/{Slug}</c>, a page this
/// service serves (and docs/problems.md repeats) saying what the error means and what to do about it.
/// </summary>
internal sealed record ProblemType(string Slug, int Status, string Title, string Meaning, string Remedy)
{
    public string Uri => "/problems/" + Slug;
}

/// <summary>Every problem type the API sends. A type not listed here cannot be sent, so every one has its page.</summary>
internal static class ProblemTypes
{
    public static readonly ProblemType Unauthorized = new("unauthorized", 401, "Missing or invalid API key",
        "The request had no X-API-Key header, or a key the service does not know. Both get the same answer, so a caller cannot probe which keys exist.",
        "Send a key from API_KEY or API_KEYS_FILE in the X-API-Key header (`./run.sh key add NAME --scopes ingest,read` makes one).");

    public static readonly ProblemType Forbidden = new("forbidden", 403, "This key may not do this",
        "The key is valid but lacks the scope this route needs: `ingest` to post messages, `read` for lists, stats, alerts and the dashboard, `admin` for labels, resolving and retrying alerts.",
        "Use a key with that scope, or give this key the scope in API_KEYS_FILE.");

    public static readonly ProblemType CrossOrigin = new("cross-origin", 403, "This request did not come from the dashboard's own page",
        "A POST, PUT or DELETE sent with the dashboard's session cookie must come from the dashboard itself (Sec-Fetch-Site: same-origin, or an Origin equal to the service's).",
        "Scripts send an X-API-Key header instead of the cookie.");

    public static readonly ProblemType BadRequest = new("bad-request", 400, "The request is not valid",
        "A query parameter or a part of the request is not valid; `errors` names each parameter when there are any.",
        "Fix the parameters `errors` names; the API reference at /docs gives their types and ranges.");

    public static readonly ProblemType InvalidJson = new("invalid-json", 400, "The body is not valid JSON",
        "The body could not be parsed as JSON; `detail` says where.",
        "Send a JSON object, e.g. {\"text\": \"...\"}, with Content-Type: application/json.");

    public static readonly ProblemType InvalidFieldType = new("invalid-field-type", 400, "A field has the wrong type",
        "A field of the body has the wrong JSON type (a number where a string belongs, say); `errors` names each field.",
        "Send each field with the type the API reference gives.");

    public static readonly ProblemType Validation = new("validation", 422, "The request is not valid",
        "The body is JSON of the right shape but a value breaks a rule, such as an empty text or a source longer than 100 characters; `errors` names each field.",
        "Fix the fields `errors` names. Nothing was stored.");

    public static readonly ProblemType IdempotencyKeyReused = new("idempotency-key-reused", 422, "Idempotency-Key reused with a different body",
        "This Idempotency-Key was used before by the same API key for a request with another body. The same key with the same body answers the stored result again.",
        "Use a new key for a new message.");

    public static readonly ProblemType UnsupportedMediaType = new("unsupported-media-type", 415, "Unsupported content type",
        "The body's Content-Type is not JSON.",
        "Send the body as application/json.");

    public static readonly ProblemType PayloadTooLarge = new("payload-too-large", 413, "The body is too large",
        "The body is over the limit (64 KiB for a message, per item in a batch; 4 KB for the dashboard's sign-in).",
        "Send less: a text over 5,000 characters is analysed on its first 5,000 anyway.");

    public static readonly ProblemType NotFound = new("not-found", 404, "Not found",
        "There is no message, alert group or theme with this id.",
        "Check the id; list the existing ones with GET /feedback, GET /alerts or GET /themes.");

    public static readonly ProblemType Conflict = new("conflict", 409, "The request conflicts with the resource's state",
        "The alert group is in a state this action does not apply to, or has no failed delivery to send again.",
        "Read the group with GET /alerts first; `detail` says its state.");

    public static readonly ProblemType NoEmbedding = new("no-embedding", 409, "This message has no sentence vector",
        "The message was stored without a sentence vector (before vectors were stored, too short, or while the encoder was not available), so it cannot be compared.",
        "`./run.sh reindex` gives stored messages their vectors.");

    public static readonly ProblemType RateLimited = new("rate-limited", 429, "Too many requests",
        "This key (RATE_LIMIT_PER_MINUTE) or, for the dashboard's sign-in, this address (DASHBOARD_SIGN_INS_PER_MINUTE) sent more requests than it may.",
        "Retry after the seconds in Retry-After.");

    public static readonly ProblemType TooManyStreams = new("too-many-streams", 429, "Too many open event streams",
        "This key or address already has as many /dashboard/events streams open as DASHBOARD_STREAMS_PER_KEY or DASHBOARD_STREAMS_PER_ADDRESS allow.",
        "Close a dashboard tab, or retry after the seconds in Retry-After.");

    public static readonly ProblemType StoreUnavailable = new("store-unavailable", 503, "The store cannot accept writes",
        "The database did not take the write (locked by another process, disk full, PostgreSQL down). Nothing was stored.",
        "Retry after the seconds in Retry-After; /health/ready says when the store takes writes again.");

    public static readonly ProblemType Overloaded = new("overloaded", 503, "The service is at capacity",
        "More than MAX_CONCURRENT_REQUESTS requests were in flight; this one was refused at once rather than queued. Nothing was stored.",
        "Retry after the seconds in Retry-After, or run more instances.");

    public static readonly ProblemType SearchTimeout = new("search-timeout", 503, "The search took too long",
        "The word search ran past SEARCH_TIMEOUT_MS and the store stopped it.",
        "Narrow it: more words, longer prefixes, or a from/to window.");

    public static readonly ProblemType EncoderUnavailable = new("encoder-unavailable", 503, "The sentence encoder is not available",
        "similar_to needs the deep classifier's sentence encoder, which is turned off (CLASSIFIER=fast) or still loading.",
        "Wait until /health shows encoder: ready, or run with CLASSIFIER=deep.");

    public static readonly ProblemType ThemesDisabled = new("themes-disabled", 503, "Themes are turned off",
        "THEMES_ENABLED is false on this instance.",
        "Set THEMES_ENABLED=true (the default) and restart.");

    public static readonly ProblemType Internal = new("internal", 500, "An unexpected error occurred",
        "A fault in the service. It was logged with the request's trace id; nothing in the answer describes it further.",
        "Report it with the `traceId` of the answer; retrying a POST with the same Idempotency-Key is safe.");

    /// <summary>Every listed type, by slug.</summary>
    public static IReadOnlyDictionary<string, ProblemType> All { get; } = typeof(ProblemTypes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(ProblemType))
        .Select(f => (ProblemType)f.GetValue(null)!)
        .ToDictionary(t => t.Slug, StringComparer.Ordinal);

    /// <summary>
    /// An answer of the framework's with no body of its own (405 for a wrong method, 404 for an unknown route):
    /// <c>/problems/http-405</c> and so on, one page for all of them.
    /// </summary>
    public static ProblemType Http(int status) => new("http-" + status, status,
        Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
        "The route or method does not exist, or the framework refused the request before it reached a route.",
        "See the API reference at /docs for the routes and their methods.");

    /// <summary>The type of a slug, including the http-NNN ones; null for a slug the API never sends.</summary>
    public static ProblemType? Find(string slug) =>
        All.TryGetValue(slug, out var type) ? type
        : slug.StartsWith("http-", StringComparison.Ordinal) && int.TryParse(slug.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status)
            && status is >= 400 and <= 599 && slug.Length == 8 ? Http(status)
        : null;
}
