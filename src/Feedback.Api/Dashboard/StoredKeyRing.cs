using System.Xml.Linq;
using Feedback.Storage;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;

namespace Feedback.Api.Dashboard;

/// <summary>
/// Data Protection's key ring in the store (table data_protection_keys) rather than in memory or in files of one
/// machine: every instance on one PostgreSQL database opens the cookies the others sealed, so a load balancer may send
/// a session anywhere, and on SQLite a restart no longer signs everyone out. The key manager calls this only when it
/// loads or extends the ring (on first use, then about once a day), never per request.
/// </summary>
/// <remarks>
/// The keys are stored unencrypted, as the database's other secrets (key digests, customer text) are: whoever can read
/// the database can already do more than forge a dashboard session.
/// </remarks>
internal sealed class StoredKeyRing(IServiceScopeFactory scopes) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        return [.. db.DataProtectionKeys.AsNoTracking().OrderBy(k => k.Id).Select(k => k.Xml).AsEnumerable().Select(XElement.Parse)];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<FeedbackDb>();
        db.DataProtectionKeys.Add(new DataProtectionKeyRecord { FriendlyName = friendlyName, Xml = element.ToString(SaveOptions.DisableFormatting) });
        db.SaveChanges();
    }
}
