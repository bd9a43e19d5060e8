namespace Parley.Storage;

public abstract partial class SqlParleyStore : IAuthenticationSettingsStore
{
    public Task SaveAuthenticationSettingsAsync(AuthenticationSettings settings, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO authentication_settings (id, tenant_id, name, body, updated_at) VALUES (@id, @tenant, @name, @body, @at) " +
            "ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body, updated_at = excluded.updated_at",
            cancellationToken,
            ("id", ToDb(settings.Id)),
            ("tenant", ToDb(settings.TenantId)),
            ("name", settings.Name),
            ("body", JsonSerializer.Serialize(settings, DomainJsonContext.Default.AuthenticationSettings)),
            ("at", ToDb(settings.UpdatedAt)));

    public Task<AuthenticationSettings?> GetAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken) =>
        QuerySingleAsync(
            "SELECT body FROM authentication_settings WHERE id = @id",
            ReadAuthenticationSettings,
            cancellationToken,
            ("id", ToDb(settingsId)));

    public Task<IReadOnlyList<AuthenticationSettings>> ListAuthenticationSettingsAsync(Guid tenantId, CancellationToken cancellationToken) =>
        QueryListAsync(
            "SELECT body FROM authentication_settings WHERE tenant_id = @tenant ORDER BY name, id",
            ReadAuthenticationSettings,
            cancellationToken,
            ("tenant", ToDb(tenantId)));

    public async Task<bool> DeleteAuthenticationSettingsAsync(Guid settingsId, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "DELETE FROM authentication_settings WHERE id = @id AND NOT EXISTS (SELECT 1 FROM deployments WHERE authentication_settings_id = @id)",
            cancellationToken,
            ("id", ToDb(settingsId))) > 0;

    private static AuthenticationSettings ReadAuthenticationSettings(DbDataReader r) =>
        JsonSerializer.Deserialize(r.GetString(0), DomainJsonContext.Default.AuthenticationSettings)!;
}
