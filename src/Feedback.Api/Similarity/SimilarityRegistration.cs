using Feedback.Storage;

namespace Feedback.Api.Similarity;

internal static class SimilarityRegistration
{
    /// <summary>
    /// The similarity index, loaded at start and kept current by the store: call after the store is added, whose
    /// <see cref="IFeedbackStore"/> it wraps (<see cref="IndexedFeedbackStore"/>).
    /// </summary>
    public static IServiceCollection AddSimilarity(this IServiceCollection services)
    {
        var store = services.Last(d => d.ServiceType == typeof(IFeedbackStore));
        var inner = store.ImplementationFactory
            ?? throw new InvalidOperationException("The store must be registered before the similarity index.");
        services.Remove(store);
        services.AddSingleton<SimilarMessages>();
        services.AddSingleton<IFeedbackStore>(sp => new IndexedFeedbackStore((IFeedbackStore)inner(sp), sp.GetRequiredService<SimilarMessages>()));
        services.AddHostedService<SimilarityIndexLoader>();
        return services;
    }
}
