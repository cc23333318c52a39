using Feedback.Api.Hosting;

namespace Feedback.Api.Themes;

internal static class ThemeRegistration
{
    /// <summary>The themes' snapshot, and the background refresher that keeps it and raises emerging themes' alerts (when THEMES_ENABLED).</summary>
    public static IHostApplicationBuilder AddThemes(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<CurrentThemes>();
        if (builder.Options<ThemeSettings>().Enabled)
        {
            services.AddSingleton<Alerts.EmergingThemes>();
            services.AddSingleton<ThemeTitles>();
            services.AddHostedService<ThemeRefresher>();
        }

        return builder;
    }
}
