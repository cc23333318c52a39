using Feedback.Analysis.Llm;
using Feedback.Storage;
using Feedback.Storage.Alerts;
using Microsoft.Extensions.Configuration;

namespace Feedback.Cli.Store;

/// <summary>
/// The settings the CLI reads, from the environment or .env, under the same variable names as the server and through
/// the same settings classes: the store, the alert policy and the LLM.
/// </summary>
internal sealed class CliSettings
{
    public StoreSettings Store { get; } = new();

    public AlertOptions Alerts { get; } = new();

    public LlmSettings Llm { get; } = new();

    /// <summary>deep or fast, as the server reads it (<see cref="Feedback.Analysis.ClassifierChoice"/>).</summary>
    [ConfigurationKeyName("CLASSIFIER")]
    public string Classifier { get; set; } = "deep";
}
