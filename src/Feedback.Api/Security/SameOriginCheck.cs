namespace Feedback.Api.Security;

/// <summary>
/// A browser sends the dashboard's cookie with any request to this host, including a form or a fetch that another
/// site starts; SameSite=Strict stops that only in browsers that honour it and not from a sibling subdomain. So a
/// write authenticated by the cookie must come from the dashboard's own page: Sec-Fetch-Site says same-origin, or,
/// from a browser that does not send it, Origin is this request's own origin. Requests with an X-API-Key header are
/// not judged by the cookie and are not checked.
/// </summary>
internal static class SameOriginCheck
{
    public static bool IsUnsafe(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    public static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"];
        if (site.Count > 0)
        {
            return string.Equals(site.ToString(), "same-origin", StringComparison.OrdinalIgnoreCase);
        }

        var origin = request.Headers.Origin;
        return origin.Count == 1 && string.Equals(origin.ToString(), request.Scheme + "://" + request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }

    public static Task RefuseAsync(HttpContext context) => Problems.Make(
            ProblemTypes.CrossOrigin,
            "A change made with the dashboard's session cookie must come from the dashboard itself (Origin or Sec-Fetch-Site). Scripts send an X-API-Key header instead.")
        .ExecuteAsync(context);
}
