using Feedback.Analysis;
using Feedback.Analysis.Local;
using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

internal static class ServiceRegistration
{
    /// <summary>Reads .env from the working directory beneath every other source, so the environment wins.</summary>
    public static void AddDotEnv(this ConfigurationManager configuration, string path) =>
        configuration.Sources.Insert(0, new DotEnvSource(path));

    /// <summary>Binds and checks the settings now, so a bad value stops the start before anything listens.</summary>
    public static ServiceSettings AddServiceSettings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<IValidateOptions<ServiceSettings>, ServiceSettingsValidator>();
        services.AddOptions<ServiceSettings>().Bind(configuration).ValidateOnStart();
        var settings = new ServiceSettings();
        configuration.Bind(settings);
        var result = new ServiceSettingsValidator().Validate(null, settings);
        if (result.Failed)
        {
            throw new OptionsValidationException(nameof(ServiceSettings), typeof(ServiceSettings), result.Failures);
        }

        return settings;
    }

    public static IServiceCollection AddAnalysis(this IServiceCollection services, ServiceSettings settings)
    {
        services.AddSingleton<ILocalClassifier, LocalClassifier>();
        services.AddSingleton(sp => new ClassificationCache(
            settings.CacheMaxSize, TimeSpan.FromSeconds(settings.CacheTtlSeconds), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<Analyzer>();
        services.AddSingleton(settings.AlertRule);
        return services;
    }
}
