using Feedback.Bench.Echo;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
builder.WebHost.UseUrls($"http://127.0.0.1:{builder.Configuration["PORT"] ?? "8001"}");
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, EchoJson.Default));

var app = builder.Build();

// Reads the JSON body and writes it back: the floor any JSON POST endpoint on this host pays.
app.MapPost("/feedback", (EchoBody body) => TypedResults.Ok(body));

await app.RunAsync();
