namespace Feedback.Storage;

/// <summary>
/// One key of ASP.NET Data Protection's key ring, as the XML element the key manager writes. Kept in the store so
/// every instance on one database seals and opens dashboard cookies with the same keys, and a restart keeps them.
/// </summary>
internal sealed class DataProtectionKeyRecord
{
    public long Id { get; set; }

    /// <summary>The key's id as the key manager names it (key-{guid}); not unique, the key manager may write it again.</summary>
    public string FriendlyName { get; set; } = "";

    public string Xml { get; set; } = "";
}
