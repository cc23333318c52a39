namespace Feedback.Api.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (the test binaries sit in tests/X/bin/Config/tfm/).</summary>
public static class Repository
{
    public static string Root { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Parent!.Parent!.Parent!.FullName;

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
