namespace Parley.Storage;

/// <summary>
/// Encryption at rest of the personal fields a store writes: message bodies, verified claims and
/// context variables. The store calls <see cref="Protect"/> before writing and
/// <see cref="Unprotect"/> after reading; rows written before protection was turned on are read
/// as they are.
/// </summary>
public interface IFieldProtector
{
    string Protect(string plaintext);

    string Unprotect(string stored);
}

/// <summary>No encryption at rest (the default).</summary>
public sealed class NoFieldProtection : IFieldProtector
{
    public static readonly NoFieldProtection Instance = new();

    public string Protect(string plaintext) => plaintext;

    public string Unprotect(string stored) => stored;
}
