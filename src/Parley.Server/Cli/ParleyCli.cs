using System.CommandLine;
using Microsoft.AspNetCore.Identity;
using Parley.Agents;
using Parley.Storage;
using Parley.Tenants;

namespace Parley.Cli;

/// <summary>
/// The command line of the same binary: <c>parley migrate</c>, <c>parley tenant create</c>, <c>parley token check</c>.
/// Anything else starts the server.
/// </summary>
public static class ParleyCli
{
    private static readonly string[] Commands = ["migrate", "tenant", "token", "keys", "--help", "-h", "-?"];

    public static bool Handles(string[] args) => args.Length > 0 && Commands.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Parley: authenticated web messaging. Without a command, runs the server.");

        var migrate = new Command("migrate", "Apply the database schema migrations and exit.");
        migrate.SetAction(async (_, cancellationToken) =>
        {
            var store = CreateStore(args);
            await store.MigrateAsync(cancellationToken);
            await Console.Out.WriteLineAsync($"schema version {await store.GetSchemaVersionAsync(cancellationToken)}");
            return 0;
        });
        root.Subcommands.Add(migrate);

        var name = new Option<string>("--name") { Description = "The brand's name.", Required = true };
        var origin = new Option<string[]>("--origin") { Description = "An allowed origin of its website (repeatable).", Required = true, AllowMultipleArgumentsPerToken = false };
        var email = new Option<string>("--admin-email") { Description = "Email of the first admin.", Required = true };
        var tenantCreate = new Command("create", "Create a brand with one deployment and an admin; the admin's password is read from standard input.")
        {
            name, origin, email,
        };
        tenantCreate.SetAction(async (result, cancellationToken) =>
        {
            var password = (await Console.In.ReadLineAsync(cancellationToken))?.Trim();
            if (string.IsNullOrEmpty(password) || password.Length < 10)
            {
                await Console.Error.WriteLineAsync("Write the admin's password (at least 10 characters) on standard input.");
                return 2;
            }

            var store = CreateStore(args);
            await store.MigrateAsync(cancellationToken);
            var now = DateTimeOffset.UtcNow;
            var tenant = new Tenant(Guid.NewGuid(), result.GetValue(name)!, now);
            var deployment = new Deployment(Guid.NewGuid(), tenant.Id, "website", result.GetValue(origin)!, now);
            var admin = new Agent(Guid.NewGuid(), tenant.Id, result.GetValue(email)!, "Admin", "", AgentRole.Admin, 5, now);
            admin = admin with { PasswordHash = new PasswordHasher<Agent>().HashPassword(admin, password) };
            await store.CreateTenantAsync(tenant, cancellationToken);
            await store.CreateDeploymentAsync(deployment, cancellationToken);
            await store.CreateAgentAsync(admin, cancellationToken);
            await Console.Out.WriteLineAsync($"{{\"tenantId\":\"{tenant.Id}\",\"deploymentId\":\"{deployment.Id}\",\"adminId\":\"{admin.Id}\"}}");
            return 0;
        });
        root.Subcommands.Add(new Command("tenant", "Manage brands.") { tenantCreate, OperatorCommands.TenantExport(() => CreateStore(args)) });
        root.Subcommands.Add(OperatorCommands.KeysRotate(() => CreateServices(args)));
        root.Subcommands.Add(new Command("token", "Check tokens as Parley would.") { TokenCheckCommand.Create() });

        var parsed = root.Parse(args.Where(a => !a.StartsWith("--Parley:", StringComparison.Ordinal)).ToArray());
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync("parley: " + error.Message);
            }

            return 2;
        }

        return await parsed.InvokeAsync();
    }

    /// <summary>The provider configured exactly as the server would configure it (appsettings, environment, --Parley:… arguments).</summary>
    private static SqlParleyStore CreateStore(string[] args) => CreateServices(args).GetRequiredService<SqlParleyStore>();

    /// <summary>Storage and the Data Protection key ring, configured exactly as the server configures them.</summary>
    private static IServiceProvider CreateServices(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args.Where(a => a.StartsWith("--Parley:", StringComparison.Ordinal)).ToArray(),
            ContentRootPath = ParleyApp.ContentRoot(args),
        });
        builder.Logging.ClearProviders().AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace); // standard output is the command's
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddParleyStorage(builder.Configuration);
        return builder.Build().Services;
    }
}
