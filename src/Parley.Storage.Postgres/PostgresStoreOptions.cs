namespace Parley.Storage.Postgres;

public sealed class PostgresStoreOptions
{
    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=parley;Username=parley;Password=...</c>.</summary>
    public string ConnectionString { get; set; } = "";
}
