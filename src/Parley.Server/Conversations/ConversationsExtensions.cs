using Parley.Messaging;
namespace Parley.Conversations;

public static class ConversationsExtensions
{
    public static IServiceCollection AddConversations(this IServiceCollection services)
    {
        services.AddHostedService<FanoutLifetime>();
        services.AddSingleton<MessageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<ConversationService>();
        services.AddSingleton<MidChatLogin>();
        services.AddSingleton<Bots.BotResponder>();
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
