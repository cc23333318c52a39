using Feedback.Storage;

namespace Feedback.Api.Submissions;

/// <summary>
/// A client's idempotency key: the Idempotency-Key header of POST /feedback, or an item's <c>idempotency_key</c> in
/// POST /feedback/batch. Both are scoped to the API key that sent them, so two clients cannot collide.
/// </summary>
internal static class IdempotencyKeys
{
    public const string Header = "Idempotency-Key";
    public const string BatchField = "idempotency_key";
    public const int MaxLength = 255;

    public const string Description =
        "1 to 255 printable ASCII characters. The same key with the same body returns the stored result again; with another body, 422.";

    public static string Rule => $"1 to {MaxLength} printable ASCII characters";

    public static bool IsUsable(string? key) =>
        !string.IsNullOrWhiteSpace(key) && key.Length <= MaxLength && !key.Any(c => c is < ' ' or > '~');

    /// <summary>The fixed-length value stored and looked up for <paramref name="key"/> sent with the API key named <paramref name="keyName"/>.</summary>
    public static string Stored(string keyName, string key) => IdempotencyKeyDigest.Of(keyName, key);
}
