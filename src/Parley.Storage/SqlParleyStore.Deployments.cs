namespace Parley.Storage;

public abstract partial class SqlParleyStore : ITenantStore, IDeploymentStore
{
    public Task CreateTenantAsync(Tenant tenant, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO tenants (id, name, created_at) VALUES (@id, @name, @at)",
            cancellationToken,
            ("id", ToDb(tenant.Id)), ("name", tenant.Name), ("at", ToDb(tenant.CreatedAt)));

    public Task<Tenant?> GetTenantAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT id, name, created_at FROM tenants WHERE id = @id",
            r => new Tenant(ReadGuid(r, 0), r.GetString(1), ReadTime(r, 2)),
            cancellationToken,
            ("id", ToDb(tenantId)));

    public Task CreateDeploymentAsync(Deployment deployment, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO deployments (id, tenant_id, name, allowed_origins, created_at, authentication_settings_id, bot, messenger) VALUES (@id, @tenant, @name, @origins, @at, @settings, @bot, @messenger)",
            cancellationToken,
            ("id", ToDb(deployment.Id)),
            ("tenant", ToDb(deployment.TenantId)),
            ("name", deployment.Name),
            ("origins", JsonSerializer.Serialize(deployment.AllowedOrigins.ToList(), DomainJsonContext.Default.ListString)),
            ("at", ToDb(deployment.CreatedAt)),
            ("settings", deployment.AuthenticationSettingsId is { } settings ? ToDb(settings) : null),
            ("bot", BotJson(deployment.Bot)),
            ("messenger", MessengerJson(deployment.Messenger)));

    public Task SetDeploymentMessengerAsync(Guid deploymentId, MessengerSettings? messenger, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "messenger", MessengerJson(messenger), cancellationToken);

    /// <summary>Replaces one of a deployment's JSON settings columns (a constant name, never input).</summary>
    private Task<int> SetDeploymentColumnAsync(Guid deploymentId, string column, string? json, CancellationToken cancellationToken) =>
        ExecuteAsync($"UPDATE deployments SET {column} = @value WHERE id = @id", cancellationToken, ("value", json), ("id", ToDb(deploymentId)));

    private static string? MessengerJson(MessengerSettings? messenger) =>
        messenger is null ? null : JsonSerializer.Serialize(messenger, DomainJsonContext.Default.MessengerSettings);

    public Task SetDeploymentBotAsync(Guid deploymentId, BotSettings? bot, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "bot", BotJson(bot), cancellationToken);

    private static string? BotJson(BotSettings? bot) =>
        bot is null ? null : JsonSerializer.Serialize(bot, DomainJsonContext.Default.BotSettings);

    public Task SetDeploymentAuthenticationSettingsAsync(Guid deploymentId, Guid? settingsId, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "UPDATE deployments SET authentication_settings_id = @settings WHERE id = @id",
            cancellationToken,
            ("settings", settingsId is { } id ? ToDb(id) : null),
            ("id", ToDb(deploymentId)));

    private const string DeploymentColumns = "id, tenant_id, name, allowed_origins, created_at, authentication_settings_id, bot, messenger";

    public Task<Deployment?> GetDeploymentAsync(Guid deploymentId, CancellationToken cancellationToken) =>
        QuerySingleAsync($"SELECT {DeploymentColumns} FROM deployments WHERE id = @id", ReadDeployment, cancellationToken, ("id", ToDb(deploymentId)));

    public Task<IReadOnlyList<Deployment>> ListDeploymentsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QueryListAsync($"SELECT {DeploymentColumns} FROM deployments WHERE tenant_id = @tenant ORDER BY name, id", ReadDeployment, cancellationToken, ("tenant", ToDb(tenantId)));

    public Task SetDeploymentOriginsAsync(Guid deploymentId, IReadOnlyList<string> origins, CancellationToken cancellationToken) =>
        SetDeploymentColumnAsync(deploymentId, "allowed_origins", JsonSerializer.Serialize(origins.ToList(), DomainJsonContext.Default.ListString), cancellationToken);

    private Deployment ReadDeployment(DbDataReader r) =>
        new(
            ReadGuid(r, 0),
            ReadGuid(r, 1),
            r.GetString(2),
            JsonSerializer.Deserialize(r.GetString(3), DomainJsonContext.Default.ListString) ?? [],
            ReadTime(r, 4),
            r.IsDBNull(5) ? null : ReadGuid(r, 5),
            r.IsDBNull(6) ? null : JsonSerializer.Deserialize(r.GetString(6), DomainJsonContext.Default.BotSettings),
            r.IsDBNull(7) ? null : JsonSerializer.Deserialize(r.GetString(7), DomainJsonContext.Default.MessengerSettings));
}
