namespace Feedback.Api.Themes;

internal static class ThemeRegistration
{
    /// <summary>The themes' snapshot, and the background refresher that keeps it and raises emerging themes' alerts (when THEMES_ENABLED).</summary>
    public static IServiceCollection AddThemes(this IServiceCollection services, ThemeSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<CurrentThemes>();
        if (settings.Enabled)
        {
            services.AddSingleton<Alerts.EmergingThemes>();
            services.AddSingleton<ThemeTitles>();
            services.AddHostedService<ThemeRefresher>();
        }

        return services;
    }
}
