using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using Feedback.Cli.Store;

namespace Feedback.Cli;

/// <summary>
/// <c>key add NAME [--scopes ingest,read] [--file PATH]</c>: makes a new API key, prints it once and appends only its
/// SHA-256 to the keys file, which a running server re-reads (no restart). <c>key revoke NAME</c> removes a key's line.
/// The file is the one the server reads: API_KEYS_FILE (from the environment or .env), else api-keys.txt under DATA_DIR.
/// </summary>
internal static class KeyCommand
{
    private static readonly string[] KnownScopes = ["ingest", "read", "admin"];

    public static Command Definition()
    {
        var name = new Argument<string>("name") { Description = "The key's name (1 to 64 ASCII letters, digits, '.', '_' or '-'): it shows in logs and labels, never the key." };
        var file = new Option<string?>("--file") { Description = "The keys file (default: API_KEYS_FILE, else api-keys.txt under DATA_DIR, as the server reads it).", HelpName = "path", Recursive = true };
        var scopes = new Option<string>("--scopes") { Description = "Comma-separated among ingest, read, admin.", DefaultValueFactory = _ => "ingest,read" };
        var add = new Command("add", "Make a new key, print it once and store only its SHA-256.") { name, scopes };
        add.SetAction(parsed => Add(parsed.GetValue(name)!, parsed.GetValue(scopes)!, parsed.GetValue(file)));
        var revoke = new Command("revoke", "Remove a key: servers stop accepting it within a second or two.") { name };
        revoke.SetAction(parsed => Revoke(parsed.GetValue(name)!, parsed.GetValue(file)));
        var command = new Command("key", "Named API keys with scopes, in the file the server reads.") { file, add.WithExamples("./run.sh key add collector --scopes ingest"), revoke.WithExamples("./run.sh key revoke collector") };
        return command.WithExamples(
            "./run.sh key add collector --scopes ingest",
            "./run.sh key add dashboard --scopes read",
            "./run.sh key revoke collector");
    }

    private static int Add(string name, string scopeList, string? given)
    {
        if (!ValidName(name))
        {
            return CommandLine.Usage;
        }

        var scopes = scopeList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (scopes.Length == 0 || scopes.Any(s => !KnownScopes.Contains(s)))
        {
            Console.Error.WriteLine("--scopes takes a comma-separated list of ingest, read, admin.");
            return CommandLine.Usage;
        }

        var file = KeysFile(given);
        var existing = File.Exists(file) ? File.ReadAllLines(file).ToList() : [];
        if (existing.Any(line => line.StartsWith(name + " ", StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"A key named {name} exists already; revoke it first or pick another name.");
            return CommandLine.Failure;
        }

        var key = "fb_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        existing.Add($"{name} {string.Join(',', scopes)} sha256:{digest}");
        WriteAtomically(file, existing);
        Console.WriteLine($"New key {name} ({string.Join(", ", scopes)}), shown only this once:\n\n  {key}\n\nIts SHA-256 is in {file}, which the server reads; it accepts the key within a second or two.");
        return CommandLine.Ok;
    }

    private static int Revoke(string name, string? given)
    {
        if (!ValidName(name))
        {
            return CommandLine.Usage;
        }

        var file = KeysFile(given);
        var existing = File.Exists(file) ? File.ReadAllLines(file).ToList() : [];
        var others = existing.Where(line => !line.StartsWith(name + " ", StringComparison.Ordinal)).ToList();
        if (others.Count == existing.Count)
        {
            Console.Error.WriteLine($"There is no key named {name} in {file}.");
            return CommandLine.Failure;
        }

        WriteAtomically(file, others);
        Console.WriteLine($"Revoked {name}; servers reading {file} stop accepting it within a second or two.");
        return CommandLine.Ok;
    }

    private static bool ValidName(string name)
    {
        // The server refuses a keys file with any other name: a name scopes the idempotency keys its requests send.
        if (name.Length is 0 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
        {
            Console.Error.WriteLine("NAME must be 1 to 64 ASCII letters, digits, '.', '_' or '-'.");
            return false;
        }

        return true;
    }

    /// <summary>--file, else where the server looks: API_KEYS_FILE or DATA_DIR, from the environment or .env.</summary>
    private static string KeysFile(string? given) => given ?? CliStore.Settings().Store.ApiKeysPath;

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
