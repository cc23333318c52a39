using System.Text.RegularExpressions;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary>
/// Issue #22 item 7: the README and docs/ stand alone. A clone has nothing beside it, so every relative link must name a
/// file of the repository, and none may reach outside it (such as ../shared, which only the developers have).
/// </summary>
public sealed partial class DocumentationTests
{
    [Fact]
    public void Every_relative_link_of_the_readme_and_the_docs_names_a_file_of_the_repository()
    {
        var pages = Directory.GetFiles(Repository.PathOf("docs"), "*.md").Append(Repository.PathOf("README.md")).ToList();
        pages.Count.ShouldBeGreaterThan(3);
        var checkedLinks = 0;
        foreach (var page in pages)
        {
            foreach (Match link in MarkdownLink().Matches(File.ReadAllText(page)))
            {
                var target = link.Groups["target"].Value.Split('#')[0];
                if (target.Length == 0 || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }

                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                var where = $"{Path.GetRelativePath(Repository.Root, page)} links {target}";
                resolved.ShouldStartWith(Repository.Root + Path.DirectorySeparatorChar, customMessage: $"{where}, outside the repository");
                (File.Exists(resolved) || Directory.Exists(resolved)).ShouldBeTrue($"{where}, which does not exist");
                checkedLinks++;
            }
        }

        checkedLinks.ShouldBeGreaterThan(3);
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)", RegexOptions.None, matchTimeoutMilliseconds: 1000)]
    private static partial Regex MarkdownLink();
}
