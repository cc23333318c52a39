using System.Reflection;
using System.Security.Cryptography;

namespace Feedback.Api.Operations;

/// <summary>
/// The build writes the OpenAPI document (Microsoft.Extensions.ApiDescription.Server) by running the app's entry point
/// until the host is built, never started. The document must not depend on the machine that builds it, so the
/// settings that would stop a start (no API key) get a throw-away value and nothing of the environment is read.
/// </summary>
internal static class OpenApiAtBuild
{
    public static bool IsRunning => Assembly.GetEntryAssembly()?.GetName().Name == "GetDocument.Insider";

    public static void Configure(ConfigurationManager configuration)
    {
        configuration.Sources.Clear();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            // Never used: the host is not started. A fresh value each build, so no key is ever written down.
            ["API_KEY"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)),
            ["DATA_DIR"] = Path.Combine(Path.GetTempPath(), "feedback-openapi-build"),
            // The document does not depend on the classifier; the lexical one loads no ONNX session in the build.
            ["CLASSIFIER"] = "fast",
        });
    }
}
