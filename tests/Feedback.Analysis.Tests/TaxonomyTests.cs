using Shouldly;

namespace Feedback.Analysis.Tests;

public sealed class TaxonomyTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("taxonomy-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void A_file_with_a_new_topic_and_a_rename_reads_with_its_mapping_of_the_built_in_topics()
    {
        var taxonomy = Taxonomy.Load(Write("""
            // comments are allowed
            {
              "fallback": "other",
              "topics": [
                { "name": "bug", "description": "broken things", "examples": ["It crashes."] },
                { "name": "design", "description": "looks", "includes": ["ux"], "examples": [] },
                { "name": "shipping", "description": "parcels", "examples": ["Where is my parcel?", "  "] },
                { "name": "other", "includes": ["general", "performance"] },
              ]
            }
            """));

        taxonomy.Topics.Select(t => t.Name).ShouldBe(["bug", "design", "shipping", "other"]);
        taxonomy.IsBuiltIn.ShouldBeFalse();
        taxonomy.FromBuiltIn(Topic.Ux).ShouldBe(new Topic("design"));
        taxonomy.FromBuiltIn(Topic.Performance).ShouldBe(new Topic("other"));
        taxonomy.FromBuiltIn(Topic.Billing).ShouldBe(new Topic("other"));
        taxonomy.FromBuiltIn(Topic.Bug).ShouldBe(Topic.Bug);
        taxonomy.Definitions[2].Examples.ShouldBe(["Where is my parcel?"]);
        taxonomy.TryParse("shipping", out _).ShouldBeTrue();
        taxonomy.TryParse("ux", out _).ShouldBeFalse();
    }

    [Fact]
    public void Scores_of_the_lexical_model_fold_into_the_configured_topics_and_still_sum_to_one()
    {
        var taxonomy = new Taxonomy(
            [
                new TopicDefinition(Topic.Bug, "", [Topic.Bug], []),
                new TopicDefinition(new Topic("product"), "", [Topic.Ux, Topic.Performance], []),
                new TopicDefinition(Topic.General, "", [Topic.General], []),
            ],
            Topic.General);
        var lexical = new TopicScores(Topic.BuiltIn, [0.4, 0.1, 0.1, 0.2, 0.15, 0.05]);

        var folded = lexical.Over(taxonomy);

        folded[0].ShouldBe(0.4, 1e-12);
        folded[1].ShouldBe(0.35, 1e-12);
        folded[2].ShouldBe(0.25, 1e-12);
    }

    [Theory]
    [InlineData("""{"topics": [{"name": "Bug"}, {"name": "general"}]}""", "'Bug' is not a topic name")]
    [InlineData("""{"topics": [{"name": "bug"}, {"name": "bug"}, {"name": "general"}]}""", "'bug' is defined twice")]
    [InlineData("""{"topics": [{"name": "bug"}, {"name": "ux"}]}""", "fallback topic 'general' is not one of the topics")]
    [InlineData("""{"topics": [{"name": "design", "includes": ["looks"]}, {"name": "general"}]}""", "'looks', which is not one of the built-in topics")]
    [InlineData("""{"topics": [{"name": "design", "includes": ["ux"]}, {"name": "ux"}, {"name": "general"}]}""", "'ux', which is a configured topic of its own")]
    [InlineData("""{"topics": [{"name": "bug", "colour": "red"}, {"name": "general"}]}""", "colour")]
    [InlineData("""{"fallback": "general"}""", "no \"topics\"")]
    public void A_broken_file_is_refused_with_what_is_wrong(string json, string expected)
    {
        var path = Write(json);

        var error = Should.Throw<InvalidDataException>(() => Taxonomy.Load(path));

        error.Message.ShouldStartWith(path);
        error.Message.ShouldContain(expected);
    }

    [Fact]
    public void The_fingerprint_changes_with_an_example_and_not_with_the_file_layout()
    {
        var a = Taxonomy.Load(Write("""{"topics": [{"name": "bug", "examples": ["It crashes."]}, {"name": "general"}]}"""));
        var b = Taxonomy.Load(Write("""
            {
              "topics": [
                {"name": "bug", "examples": ["It crashes."]},
                {"name": "general"}
              ]
            }
            """));
        var c = Taxonomy.Load(Write("""{"topics": [{"name": "bug", "examples": ["It crashes!"]}, {"name": "general"}]}"""));

        a.Fingerprint().ShouldBe(b.Fingerprint());
        a.Fingerprint().ShouldNotBe(c.Fingerprint());
    }

    private string Write(string json)
    {
        var path = Path.Combine(directory, $"{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }
}
