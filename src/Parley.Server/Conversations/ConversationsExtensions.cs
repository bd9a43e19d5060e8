using Parley.Messaging;
namespace Parley.Conversations;

public static class ConversationsExtensions
{
    public static IServiceCollection AddConversations(this IServiceCollection services)
    {
        services.AddHostedService<FanoutLifetime>();
        services.AddSingleton<MessageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<ConversationLifecycle>();
        services.AddSingleton<ConversationService>();
        services.AddSingleton<MidChatLogin>();
        services.AddSingleton<Bots.BotResponder>();
        return services;
    }

    /// <summary>The deletion of closed conversations past <c>Parley:Retention</c>, validated at start.</summary>
    public static IServiceCollection AddRetention(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section))
            .Validate(o => o.ClosedConversationDays is null or > 0, "Parley:Retention:ClosedConversationDays must be positive (or unset to keep everything).")
            .Validate(o => o.AuditDays is null or > 0, "Parley:Retention:AuditDays must be positive (or unset to keep the audit log).")
            .Validate(o => o.Interval >= TimeSpan.FromMinutes(1), "Parley:Retention:Interval must be at least a minute.")
            .ValidateOnStart();
        services.AddSingleton<Retention>();
        services.AddHostedService(sp => sp.GetRequiredService<Retention>());
        return services;
    }

    /// <summary>Starts and stops the storage provider's fan-out when it has work of its own (the PostgreSQL listener).</summary>
    private sealed class FanoutLifetime(ILiveFanout fanout) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            fanout is IHostedService hosted ? hosted.StartAsync(cancellationToken) : Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) =>
            fanout is IHostedService hosted ? hosted.StopAsync(cancellationToken) : Task.CompletedTask;
    }
}
