using System.Text.Json;

namespace Feedback.Analysis.Local;

/// <summary>Reads the lexicon files compiled into this assembly (see the csproj).</summary>
internal static partial class EmbeddedData
{
    /// <summary>Linux's MADV_PAGEOUT (5.4 and later): reclaim these pages now; a file's clean pages are read again if touched.</summary>
    private const int PageOut = 21;

    /// <summary>Where a resource lies in the mapped assembly image (which outlives the stream), or (0, 0).</summary>
    public static unsafe (nint Start, nint Length) MappedRange(Stream resource) =>
        resource is UnmanagedMemoryStream { Position: 0 } mapped ? ((nint)mapped.PositionPointer, (nint)mapped.Length) : (0, 0);

    /// <summary>
    /// Gives back the resident pages of a resource read once at start (the 2.8 MB model): they are the assembly
    /// file's own mapped pages, counted in the process's resident memory until the kernel needs them (issue #3's
    /// 150 MB). Only whole pages inside the resource, only on Linux; an older kernel refuses the advice and nothing changes.
    /// </summary>
    public static void ReleasePages((nint Start, nint Length) range)
    {
        if (!OperatingSystem.IsLinux() || range.Length == 0)
        {
            return;
        }

        var pageSize = (nint)Environment.SystemPageSize;
        var first = (range.Start + pageSize - 1) & ~(pageSize - 1);
        var end = (range.Start + range.Length) & ~(pageSize - 1);
        if (end > first)
        {
            _ = Advise(first, (nuint)(end - first), PageOut);
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);

    public static Stream Open(string name)
    {
        var fullName = "Feedback.Analysis." + name;
        return typeof(EmbeddedData).Assembly.GetManifestResourceStream(fullName)
            ?? throw new InvalidOperationException($"Embedded resource '{fullName}' is missing from the build.");
    }

    public static JsonDocument Json(string name)
    {
        using var stream = Open(name);
        return JsonDocument.Parse(stream, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
    }
}
