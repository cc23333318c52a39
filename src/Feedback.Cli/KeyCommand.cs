using System.Security.Cryptography;
using System.Text;

namespace Feedback.Cli;

/// <summary>
/// <c>key add NAME [--scopes ingest,read] [--file PATH]</c>: makes a new API key, prints it once and appends
/// only its SHA-256 to the keys file, which a running server re-reads (no restart). <c>key revoke NAME</c>
/// removes a key's line.
/// </summary>
internal static class KeyCommand
{
    private static readonly string[] KnownScopes = ["ingest", "read", "admin"];

    public static int Run(string[] args)
    {
        if (args.Length < 2 || args[0] is not ("add" or "revoke"))
        {
            Console.Error.WriteLine("Usage: key add NAME [--scopes ingest,read,admin] [--file PATH]   |   key revoke NAME [--file PATH]");
            return 2;
        }

        var name = args[1];
        var file = Option(args, "--file") ?? Environment.GetEnvironmentVariable("API_KEYS_FILE") ?? Path.Combine("data", "api-keys.txt");
        // The server refuses a keys file with any other name: a name scopes the idempotency keys its requests send.
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            Console.Error.WriteLine("NAME must be 1 to 64 ASCII letters, digits, '.', '_' or '-'.");
            return 2;
        }

        var existing = File.Exists(file) ? File.ReadAllLines(file).ToList() : [];
        var others = existing.Where(line => !line.StartsWith(name + " ", StringComparison.Ordinal)).ToList();
        if (args[0] == "revoke")
        {
            if (others.Count == existing.Count)
            {
                Console.Error.WriteLine($"There is no key named {name} in {file}.");
                return 1;
            }

            WriteAtomically(file, others);
            Console.WriteLine($"Revoked {name}; servers reading {file} stop accepting it within a second or two.");
            return 0;
        }

        if (others.Count != existing.Count)
        {
            Console.Error.WriteLine($"A key named {name} exists already; revoke it first or pick another name.");
            return 1;
        }

        var scopes = (Option(args, "--scopes") ?? "ingest,read").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (scopes.Length == 0 || scopes.Any(s => !KnownScopes.Contains(s)))
        {
            Console.Error.WriteLine("--scopes takes a comma-separated list of ingest, read, admin.");
            return 2;
        }

        var key = "fb_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        others.Add($"{name} {string.Join(',', scopes)} sha256:{digest}");
        WriteAtomically(file, others);
        Console.WriteLine($"New key {name} ({string.Join(", ", scopes)}), shown only this once:\n\n  {key}\n\nIts SHA-256 is in {file}; set API_KEYS_FILE to that file.");
        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    /// <summary>A server re-reading the file never sees half of it.</summary>
    private static void WriteAtomically(string file, IEnumerable<string> lines)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(file)}.{Environment.ProcessId}.tmp");
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, file, overwrite: true);
    }
}
