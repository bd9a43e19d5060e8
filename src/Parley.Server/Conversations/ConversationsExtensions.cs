namespace Parley.Conversations;

public static class ConversationsExtensions
{
    public static IServiceCollection AddConversations(this IServiceCollection services)
    {
        services.AddSingleton<ILiveFanout, InProcessFanout>();
        services.AddSingleton<MessageWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<MessageWriter>());
        services.AddSingleton<ConversationService>();
        services.AddSingleton<Bots.BotResponder>();
        return services;
    }
}
