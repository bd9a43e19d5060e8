namespace Parley.Storage;

/// <summary>One versioned schema step. Versions start at 1 and increase by one.</summary>
public sealed record SqlMigration(int Version, string Description, string Sql);
