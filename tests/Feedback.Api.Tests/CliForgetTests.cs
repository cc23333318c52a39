using System.Text.Json;
using Feedback.Api.Tests.Infrastructure;
using Shouldly;

namespace Feedback.Api.Tests;

/// <summary><c>forget</c> through the real CLI: one customer's imported messages erased, the others kept, on either store.</summary>
public abstract class CliForgetTests(StoreKind kind) : ImportedStoreTests(kind,
[
    "id,text,customer_id",
    "a,\"I was charged twice this month, refund me now. Unacceptable!\",c-1",
    "b,\"The export crashes every time I open it.\",c-1",
    "c,\"I love the new reports page, thank you!\",c-2",
], "--id-column", "id")
{
    [Fact]
    public async Task Forget_erases_one_customers_messages_and_says_how_many()
    {
        var (exitCode, output) = await RunCliAsync("forget", "c-1", "--json");

        exitCode.ShouldBe(0, output);
        JsonDocument.Parse(output).RootElement.GetProperty("deleted").GetInt32().ShouldBe(2);
        Count("SELECT count(*) FROM feedback WHERE customer_id = 'c-1'").ShouldBe(0);
        Count("SELECT count(*) FROM feedback WHERE customer_id = 'c-2'").ShouldBe(1);

        var (again, said) = await RunCliAsync("forget", "c-1");
        again.ShouldBe(0, said);
        said.ShouldContain("No messages of customer c-1");
    }

    private long Count(string sql) => Convert.ToInt64(Store.Query(sql), System.Globalization.CultureInfo.InvariantCulture);
}

public sealed class CliForgetOnSqliteTests() : CliForgetTests(StoreKind.Sqlite);

public sealed class CliForgetOnPostgresTests() : CliForgetTests(StoreKind.Postgres);
