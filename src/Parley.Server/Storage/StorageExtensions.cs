using Microsoft.Extensions.Options;
using Parley.Storage.Postgres;
using Parley.Storage.Sqlite;

namespace Parley.Storage;

public static class StorageExtensions
{
    public static IServiceCollection AddParleyStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .Validate(o => o.Provider is "sqlite" or "postgres",
                "Parley:Storage:Provider must be 'sqlite' or 'postgres'.")
            .Validate(o => o.Provider != "postgres" || !string.IsNullOrWhiteSpace(o.Postgres.ConnectionString),
                "Parley:Storage:Postgres:ConnectionString is required when Parley:Storage:Provider is 'postgres'.")
            .Validate(o => o.MaxBatchSize is >= 1 and <= 10_000, "Parley:Storage:MaxBatchSize must be between 1 and 10000.")
            .Validate(o => o.Writers is null or (>= 1 and <= 64), "Parley:Storage:Writers must be between 1 and 64.")
            .Validate(o => o.Sqlite.Library is "auto" or "bundled", "Parley:Storage:Sqlite:Library must be 'auto' or 'bundled'.")
            .ValidateOnStart();

        services.AddSingleton<IParleyStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            SqlParleyStore store = options.Provider == "postgres"
                ? new PostgresParleyStore(options.Postgres)
                : new SqliteParleyStore(options.Sqlite);
            if (options.EncryptAtRest)
            {
                store.FieldProtector = new DataProtectionFieldProtector(sp.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>());
            }

            return store;
        });
        services.AddHostedService<StorageStartup>();
        return services;
    }
}

/// <summary>Applies schema migrations before the server takes traffic; a failure stops the start.</summary>
internal sealed partial class StorageStartup(IParleyStore store, IOptions<StorageOptions> options, ILogger<StorageStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        LogMigrated(logger, options.Value.Provider, await store.GetSchemaVersionAsync(cancellationToken));
        if (store is SqliteParleyStore)
        {
            LogSqliteLibrary(logger, SqliteParleyStore.Library);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Storage {Provider} ready at schema version {Version}")]
    private static partial void LogMigrated(ILogger logger, string provider, int version);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "SQLite: the {Library} library (Parley:Storage:Sqlite:Library)")]
    private static partial void LogSqliteLibrary(ILogger logger, string library);
}
