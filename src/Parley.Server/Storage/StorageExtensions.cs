using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Parley.Storage.Postgres;
using Parley.Storage.Sqlite;

namespace Parley.Storage;

public static class StorageExtensions
{
    /// <summary>
    /// The configured provider, registered once under each of its role interfaces, with its live
    /// fan-out and the Data Protection keys. The only place the server names a provider.
    /// </summary>
    public static IServiceCollection AddParleyStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .PostConfigure(o => o.Writers ??= o.Provider == "postgres" ? 4 : 1)
            .Validate(o => o.Provider is "sqlite" or "postgres",
                "Parley:Storage:Provider must be 'sqlite' or 'postgres'.")
            .Validate(o => o.Provider != "postgres" || !string.IsNullOrWhiteSpace(o.Postgres.ConnectionString),
                "Parley:Storage:Postgres:ConnectionString is required when Parley:Storage:Provider is 'postgres'.")
            .Validate(o => o.MaxBatchSize is >= 1 and <= 10_000, "Parley:Storage:MaxBatchSize must be between 1 and 10000.")
            .Validate(o => o.Writers is >= 1 and <= 64, "Parley:Storage:Writers must be between 1 and 64.")
            .ValidateOnStart();

        services.AddSingleton<SqlParleyStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            SqlParleyStore store = options.Provider == "postgres"
                ? new PostgresParleyStore(options.Postgres)
                : new SqliteParleyStore(options.Sqlite);
            if (options.EncryptAtRest)
            {
                store.FieldProtector = new DataProtectionFieldProtector(sp.GetRequiredService<IDataProtectionProvider>());
            }

            return store;
        });
        services.AddSingleton<ISchemaStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<ITenantStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IDeploymentStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IConsumerStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IAgentStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IConversationStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IMessageStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IRoutingStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IPresenceStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IAuditStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<ISignInThrottleStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IUsedTokenStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<ILoginStateStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton<IAuthenticationSettingsStore>(sp => sp.GetRequiredService<SqlParleyStore>());
        services.AddSingleton(sp => sp.GetRequiredService<SqlParleyStore>().CreateLiveFanout(sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<StorageStartup>();

        // Data Protection keys (encryption at rest, cookies) live beside the SQLite database unless configured.
        var keys = configuration["Parley:DataProtection:KeysPath"]
            ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configuration["Parley:Storage:Sqlite:Path"] ?? "data/parley.db"))!, "keys");
        services.AddDataProtection().SetApplicationName("Parley").PersistKeysToFileSystem(new DirectoryInfo(keys));
        return services;
    }
}

/// <summary>Applies schema migrations before the server takes traffic; a failure stops the start.</summary>
internal sealed partial class StorageStartup(SqlParleyStore store, IOptions<StorageOptions> options, ILogger<StorageStartup> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        LogMigrated(logger, options.Value.Provider, await store.GetSchemaVersionAsync(cancellationToken));
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Storage {Provider} ready at schema version {Version}")]
    private static partial void LogMigrated(ILogger logger, string provider, int version);
}
