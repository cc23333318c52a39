using Microsoft.Extensions.Options;

namespace Feedback.Api.Hosting;

/// <summary>
/// Each feature's settings as options of their own type, bound from the contract's flat variable names. They are
/// bound and checked once while the host is built, so a bad value stops the start before anything listens, with every
/// failure named at once; they are also registered validated on start, for any host built another way.
/// </summary>
internal static class FeatureOptions
{
    private const string FailuresKey = "Feedback.FeatureOptions.Failures";

    /// <summary>
    /// Binds <typeparamref name="T"/>, registers it (as <see cref="IOptions{TOptions}"/> and as itself, so a feature's
    /// classes take either) and notes what <paramref name="failures"/> finds wrong with it.
    /// </summary>
    /// <exception cref="InvalidOperationException">A value cannot be converted to its setting's type (the message names the variable).</exception>
    public static T AddFeatureOptions<T>(this IHostApplicationBuilder builder, Func<T, IEnumerable<string>> failures)
        where T : class, new()
    {
        var bound = new T();
        builder.Configuration.Bind(bound);
        builder.Properties[typeof(T)] = bound;
        Failures(builder).AddRange(failures(bound));

        builder.Services.AddSingleton<IValidateOptions<T>>(new FailuresValidator<T>(failures));
        builder.Services.AddOptions<T>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return bound;
    }

    /// <summary>The bound settings of one feature, for the choices made while services are registered.</summary>
    public static T Options<T>(this IHostApplicationBuilder builder)
        where T : class =>
        builder.Properties.TryGetValue(typeof(T), out var bound) ? (T)bound
            : throw new InvalidOperationException($"{typeof(T).Name} is read before it is bound.");

    /// <summary>Stops the start when any bound setting is wrong, with every failure in one message.</summary>
    /// <exception cref="OptionsValidationException">At least one setting is wrong.</exception>
    public static void ThrowOnFailures(this IHostApplicationBuilder builder)
    {
        var failures = Failures(builder);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException("Settings", typeof(FeatureOptions), failures);
        }
    }

    private static List<string> Failures(IHostApplicationBuilder builder)
    {
        if (!builder.Properties.TryGetValue(FailuresKey, out var list))
        {
            builder.Properties[FailuresKey] = list = new List<string>();
        }

        return (List<string>)list;
    }
}

/// <summary>Validates options on start with the same checks that stopped a bad start while the host was built.</summary>
internal sealed class FailuresValidator<T>(Func<T, IEnumerable<string>> failures) : IValidateOptions<T>
    where T : class
{
    public ValidateOptionsResult Validate(string? name, T options)
    {
        var found = failures(options).ToList();
        return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
    }
}
