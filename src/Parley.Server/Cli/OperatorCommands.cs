using System.CommandLine;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Parley.Messaging;
using Parley.Storage;

namespace Parley.Cli;

/// <summary>
/// An operator's chores beside <c>migrate</c> and <c>tenant create</c>: <c>parley tenant export</c>
/// (one brand's data, e.g. for a data-portability request or a move) and <c>parley keys rotate</c>
/// (a new Data Protection key for what Parley encrypts at rest).
/// </summary>
internal static class OperatorCommands
{
    public const string ExportFormat = "parley-tenant-export/1";

    public static Command TenantExport(Func<SqlParleyStore> store)
    {
        var tenant = new Option<Guid>("--tenant") { Description = "The brand's tenant id.", Required = true };
        var output = new Option<FileInfo?>("--out") { Description = "Write to this file (default: standard output)." };
        var command = new Command("export", "Write one brand's data as JSON: deployments, agents (no password hashes), authentication settings "
            + "(no secrets), customers with their verified identity, conversations with messages and receipts, and the audit log.")
        {
            tenant, output,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var id = result.GetValue(tenant);
            var file = result.GetValue(output);
            await using var stream = file is null ? Console.OpenStandardOutput() : file.Create();
            var exported = await ExportAsync(store(), id, stream, cancellationToken);
            if (exported is null)
            {
                await Console.Error.WriteLineAsync($"parley: no tenant {id}.");
                return 1;
            }

            await Console.Error.WriteLineAsync($"exported tenant {id}: {exported} conversations");
            return 0;
        });
        return command;
    }

    /// <summary>Writes the export; the number of conversations, or null when there is no such tenant.</summary>
    public static async Task<int?> ExportAsync(SqlParleyStore store, Guid tenantId, Stream stream, CancellationToken cancellationToken)
    {
        if (await store.GetTenantAsync(tenantId, cancellationToken) is not { } tenant)
        {
            return null;
        }

        var options = new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true };
        await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("format", ExportFormat);
        json.WriteString("exportedAt", DateTimeOffset.UtcNow);
        Write(json, "tenant", new { tenant.Id, tenant.Name, tenant.CreatedAt }, options);
        Write(json, "deployments", await store.ListDeploymentsAsync(tenantId, cancellationToken), options);
        Write(json, "agents", (await store.ListAgentsAsync(tenantId, cancellationToken))
            .Select(a => new { a.Id, a.Email, a.DisplayName, Role = a.Role.ToString().ToLowerInvariant(), a.Capacity, a.Queues, a.CreatedAt }), options);
        Write(json, "authenticationSettings", (await store.ListAuthenticationSettingsAsync(tenantId, cancellationToken)).Select(s => new
        {
            s.Id, s.Name, Flow = s.Flow.ToString().ToLowerInvariant(), s.Issuer, s.ClientId, s.KeysUrl, s.DiscoveryUrl, s.KeysDocument,
            s.AuthorizationEndpoint, s.TokenEndpoint, s.JsClientFunction, s.AllowedAlgorithms, s.ClockSkewSeconds, s.SessionTtlMinutes,
            s.LoginLinkLifetimeMinutes, s.ClaimMapping, s.CreatedAt, s.UpdatedAt,
        }), options);

        var conversations = await store.ListConversationsByTenantAsync(tenantId, null, int.MaxValue, cancellationToken);
        json.WritePropertyName("customers");
        json.WriteStartArray();
        foreach (var consumerId in conversations.Select(c => c.ConsumerId).Distinct())
        {
            var consumer = await store.GetConsumerAsync(consumerId, cancellationToken);
            var identity = await store.GetVerifiedIdentityAsync(consumerId, cancellationToken);
            JsonSerializer.Serialize(json, new
            {
                Id = consumerId, Authenticated = consumer?.IsAuthenticated ?? false, consumer?.Issuer, consumer?.Subject, consumer?.CreatedAt,
                identity?.VerifiedClaims, identity?.ContextVariables, identity?.Acr, identity?.Amr, identity?.AuthTime, identity?.AuthenticatedAt,
            }, options);
        }

        json.WriteEndArray();
        json.WritePropertyName("conversations");
        json.WriteStartArray();
        foreach (var conversation in conversations)
        {
            var messages = new List<MessageView>();
            for (long after = 0; ;)
            {
                var page = await store.GetMessagesAsync(conversation.Id, after, 500, cancellationToken);
                messages.AddRange(page.Select(m => m.ToView()));
                if (page.Count < 500)
                {
                    break;
                }

                after = page[^1].Seq;
            }

            var receipts = (await store.GetReceiptsAsync(conversation.Id, cancellationToken)).Select(r => r.ToView());
            JsonSerializer.Serialize(json, new { Conversation = conversation.ToAgentView(), Messages = messages, Receipts = receipts }, options);
            await json.FlushAsync(cancellationToken);
        }

        json.WriteEndArray();
        Write(json, "audit", await store.ListAuditEventsAsync(tenantId, null, null, int.MaxValue, cancellationToken), options);
        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
        return conversations.Count;
    }

    private static void Write<T>(Utf8JsonWriter json, string name, T value, JsonSerializerOptions options)
    {
        json.WritePropertyName(name);
        JsonSerializer.Serialize(json, value, options);
    }

    public static Command KeysRotate(Func<IServiceProvider> services)
    {
        var command = new Command("rotate",
            "Create a new Data Protection key, used from now on for what Parley encrypts at rest (client secrets, keys, and message bodies "
            + "when field protection is on). Older keys stay in the ring to read what they encrypted. Running servers take the new key "
            + "when they next read the key ring (within 24 hours; restart them to take it at once).");
        command.SetAction(async (_, _) =>
        {
            var keys = services().GetRequiredService<IKeyManager>();
            var now = DateTimeOffset.UtcNow;
            var key = keys.CreateNewKey(activationDate: now, expirationDate: now.AddDays(90));
            await Console.Out.WriteLineAsync(JsonSerializer.Serialize(new
            {
                keyId = key.KeyId, activates = key.ActivationDate, expires = key.ExpirationDate,
                ring = keys.GetAllKeys().OrderBy(k => k.CreationDate).Select(k => new { keyId = k.KeyId, created = k.CreationDate, expires = k.ExpirationDate, revoked = k.IsRevoked }),
            }, JsonSerializerOptions.Web));
            return 0;
        });
        return new Command("keys", "Manage the Data Protection key ring.") { command };
    }
}
