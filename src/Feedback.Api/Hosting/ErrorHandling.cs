using Feedback.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Feedback.Storage.Postgres;

namespace Feedback.Api.Hosting;

/// <summary>
/// Turns what escapes an endpoint into problem details: a store that cannot write is a 503 with Retry-After,
/// anything else a 500 that reveals nothing. Neither ever carries a stack trace or the submitted text.
/// </summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        ProblemHttpResult problem;
        switch (exception)
        {
            case StoreUnavailableException unavailable:
                problem = Problems.StoreUnavailable(unavailable.Reason);
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case SqliteException sqlite when StoreUnavailableException.IsStoreFault(sqlite):
                problem = Problems.StoreUnavailable(StoreUnavailableException.Describe(sqlite));
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case BadHttpRequestException bad:
                problem = bad.StatusCode switch
                {
                    StatusCodes.Status400BadRequest => Problems.BadRequest("The request could not be read."),
                    StatusCodes.Status413PayloadTooLarge => Problems.Make(ProblemTypes.PayloadTooLarge, "The body is larger than the server accepts."),
                    _ => Problems.Make(ProblemTypes.Http(bad.StatusCode), "The request could not be read."),
                };
                break;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true;

            // Asked last and without naming NpgsqlException here: a SQLite server's aborted requests end above,
            // so it never loads Npgsql to judge them.
            case var postgres when PostgresFaults.IsStoreFault(postgres):
                problem = Problems.StoreUnavailable(PostgresFaults.Describe(postgres));
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            default:
                LogUnexpected(logger, exception.GetType().Name, exception);
                problem = Problems.Unexpected();
                break;
        }

        await problem.ExecuteAsync(context);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled {ExceptionType}")]
    private static partial void LogUnexpected(ILogger logger, string exceptionType, Exception exception);
}
