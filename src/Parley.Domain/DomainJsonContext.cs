using System.Text.Json.Serialization;

namespace Parley;

[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, string>))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Authentication.AuthenticationSettings))]
[JsonSerializable(typeof(Bots.BotSettings))]
[JsonSerializable(typeof(Routing.RoutingConfiguration))]
[JsonSerializable(typeof(Tenants.MessengerSettings))]
internal sealed partial class DomainJsonContext : JsonSerializerContext;
