using Feedback.Api.Dashboard;
using Feedback.Api.Hosting;
using Feedback.Api.Operations;
using Feedback.Api.Security;
using Feedback.Api.Similarity;
using Feedback.Api.Themes;

var builder = WebApplication.CreateBuilder(args);

// .env and every feature's settings, checked; Kestrel, the log and the listen address. A bad setting stops here.
if (await Startup.ConfigureAsync(builder) is { } configurationError)
{
    return configurationError;
}

builder.AddHttpConventions();
builder.AddSecurity();
builder.AddDashboard();
builder.AddRedis();
builder.AddAnalysis();
builder.AddStore();
builder.Services.AddSimilarity();
builder.AddThemes();
builder.AddAlerts();
builder.AddOperations();

var app = builder.Build();

// Redis connected and the store opened (and migrated) before anything listens; a store that cannot open stops here.
if (await Startup.OpenStoreAsync(app) is { } storeError)
{
    return storeError;
}

app.UseFeedbackMiddleware();
app.MapFeedback();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the API tests' WebApplicationFactory.</summary>
public partial class Program;
