using Mono.Cecil;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The shape docs/architecture.md describes, checked on the source tree and the compiled
/// assemblies so that it stays that way: small files and interfaces, no SQL in the domain, and no
/// dependency cycle between the server's feature folders.
/// </summary>
public sealed class ArchitectureTests
{
    private const int MaxSourceLines = 600;
    private const int MaxInterfaceMembers = 15;

    private static readonly string[] ParleyAssemblies =
        ["Parley.Domain", "Parley.Identity", "Parley.Storage", "Parley.Storage.Sqlite", "Parley.Storage.Postgres", "Parley.Server"];

    private static ModuleDefinition Module(string assembly) =>
        ModuleDefinition.ReadModule(Path.Combine(AppContext.BaseDirectory, assembly + ".dll"));

    [Fact]
    public void No_source_file_under_src_is_over_600_lines()
    {
        var src = Path.Combine(RepositoryPaths.Root, "src");
        string[] skipped = ["node_modules", "dist", "bin", "obj"];
        var tooLong = Directory.EnumerateFiles(src, "*.*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".cs" or ".ts" or ".tsx" or ".mjs")
            .Where(f => !Path.GetRelativePath(src, f).Split(Path.DirectorySeparatorChar).Any(skipped.Contains))
            .Select(f => (File: Path.GetRelativePath(src, f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > MaxSourceLines)
            .ToList();
        Assert.True(tooLong.Count == 0, "Over 600 lines: " + string.Join(", ", tooLong.Select(f => $"{f.File} ({f.Lines})")));
    }

    [Fact]
    public void No_interface_has_more_than_15_members()
    {
        var wide = ParleyAssemblies
            .SelectMany(a => Module(a).GetTypes())
            .Where(t => t.IsInterface)
            .Select(t => (t.FullName, Members: t.Methods.Count(m => !m.IsSpecialName) + t.Properties.Count + t.Events.Count))
            .Where(t => t.Members > MaxInterfaceMembers)
            .ToList();
        Assert.True(wide.Count == 0, "Interfaces over 15 members: " + string.Join(", ", wide.Select(t => $"{t.FullName} ({t.Members})")));
    }

    [Fact]
    public void The_domain_has_no_sql_and_no_ado_net_type()
    {
        var domain = Module("Parley.Domain");
        var adoNet = domain.GetTypeReferences().Select(t => t.FullName)
            .Where(n => n.StartsWith("System.Data.", StringComparison.Ordinal) || n.StartsWith("Microsoft.Data.", StringComparison.Ordinal) || n.StartsWith("Npgsql", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(adoNet);
        Assert.DoesNotContain(domain.AssemblyReferences, r => r.Name.StartsWith("Microsoft.Data", StringComparison.Ordinal) || r.Name.StartsWith("Npgsql", StringComparison.Ordinal));

        string[] sql = ["SELECT ", "INSERT INTO", "UPDATE ", "DELETE FROM", "CREATE TABLE", "ON CONFLICT"];
        var withSql = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src", "Parley.Domain"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Where(f => sql.Any(File.ReadAllText(f).Contains))
            .ToList();
        Assert.Empty(withSql);
    }

    [Fact]
    public void The_servers_feature_folders_form_no_dependency_cycle()
    {
        var graph = FeatureGraph(Module("Parley.Server"));
        var cycles = StronglyConnected(graph).Where(c => c.Count > 1).ToList();
        Assert.True(cycles.Count == 0, "Feature folders in a cycle: " + string.Join("; ", cycles.Select(c =>
            string.Join(", ", c.Order(StringComparer.Ordinal)) + " — through " +
            string.Join(", ", c.SelectMany(from => graph[from].Where(e => c.Contains(e.Key)).Select(e => $"{from}→{e.Key} ({e.Value})")).Order(StringComparer.Ordinal)))));
    }

    [Fact]
    public void Only_the_conversation_lifecycle_publishes_a_conversation_change()
    {
        // Every change goes through ConversationLifecycle (store, event, publish); a service that
        // published on its own would skip the event, or tell watchers a state that is not stored.
        var publishers = Module("Parley.Server").GetTypes()
            .SelectMany(t => t.Methods.Where(m => m.HasBody).SelectMany(m => m.Body.Instructions.Select(i => (Type: t, i.Operand))))
            .Where(use => use.Operand is MethodReference { Name: ".ctor", DeclaringType.Name: "ConversationChanged" })
            .Select(use => Outermost(use.Type).Name)
            .Distinct()
            .ToList();
        Assert.Equal(["ConversationLifecycle"], publishers);
    }

    [Fact]
    public void System_event_names_are_written_only_in_SystemEvents()
    {
        var names = typeof(Parley.Messaging.SystemEvents).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.Contains("conversation.closed", names);
        var server = Path.Combine(RepositoryPaths.Root, "src", "Parley.Server");
        var bare = Directory.EnumerateFiles(server, "*.cs", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "SystemEvents.cs" && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => names.Where(n => File.ReadAllText(f).Contains($"\"{n}\"", StringComparison.Ordinal)).Select(n => $"{Path.GetFileName(f)}: {n}"))
            .ToList();
        Assert.True(bare.Count == 0, "Bare system event names: " + string.Join(", ", bare));
    }

    [Fact]
    public void Endpoints_map_onto_a_route_builder_not_the_application()
    {
        // Map…(this IEndpointRouteBuilder) can be mounted in a group, a test host or another app.
        var maps = Module("Parley.Server").GetTypes()
            .SelectMany(t => t.Methods)
            .Where(m => m.IsStatic && m.IsPublic && m.Name.StartsWith("Map", StringComparison.Ordinal) && m.Parameters.Count > 0)
            .ToList();
        Assert.Contains(maps, m => m.Name == "MapConsumerApi");
        var onApplication = maps
            .Where(m => m.Parameters[0].ParameterType.FullName != "Microsoft.AspNetCore.Routing.IEndpointRouteBuilder")
            .Select(m => $"{m.DeclaringType.Name}.{m.Name}({m.Parameters[0].ParameterType.Name})")
            .ToList();
        Assert.True(onApplication.Count == 0, "Mapped on something else: " + string.Join(", ", onApplication));
    }

    private static TypeDefinition Outermost(TypeDefinition type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type;
    }

    [Fact]
    public void The_cycle_check_sees_a_dependency_through_a_method_body()
    {
        // The detector itself: a type used only inside a method body (never in a signature) still counts.
        var graph = FeatureGraph(Module("Parley.Server.Tests"));
        Assert.Contains("Server.Tests", graph.TryGetValue("Server.Tests.Probe", out var edges) ? edges.Keys : Enumerable.Empty<string>());
    }

    /// <summary>
    /// Feature folder → the folders its types use (with one example type each): base types,
    /// interfaces, fields, properties, signatures, attributes and every type or member a method
    /// body touches. A folder is the namespace below <c>Parley.</c>; the root namespace (the host's
    /// composition) is left out.
    /// </summary>
    internal static Dictionary<string, Dictionary<string, string>> FeatureGraph(ModuleDefinition module)
    {
        var graph = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var type in module.GetTypes())
        {
            if (Feature(type) is not { } from)
            {
                continue;
            }

            var edges = graph.TryGetValue(from, out var found) ? found : graph[from] = new(StringComparer.Ordinal);
            void Use(TypeReference? used)
            {
                while (used is TypeSpecification spec)
                {
                    if (used is GenericInstanceType generic)
                    {
                        foreach (var argument in generic.GenericArguments)
                        {
                            Use(argument);
                        }
                    }

                    used = spec.ElementType;
                }

                if (used?.Scope is not ModuleDefinition || Feature(used) is not { } to || to == from)
                {
                    return;
                }

                edges.TryAdd(to, $"{type.Name} uses {used.Name}");
            }

            Use(type.BaseType);
            foreach (var i in type.Interfaces) { Use(i.InterfaceType); }
            foreach (var f in type.Fields) { Use(f.FieldType); }
            foreach (var p in type.Properties) { Use(p.PropertyType); }
            foreach (var a in type.CustomAttributes) { Use(a.AttributeType); UseArguments(a, Use); }
            foreach (var method in type.Methods)
            {
                Use(method.ReturnType);
                foreach (var p in method.Parameters) { Use(p.ParameterType); }
                foreach (var a in method.CustomAttributes) { Use(a.AttributeType); }
                if (!method.HasBody)
                {
                    continue;
                }

                foreach (var v in method.Body.Variables) { Use(v.VariableType); }
                foreach (var instruction in method.Body.Instructions)
                {
                    switch (instruction.Operand)
                    {
                        case TypeReference t: Use(t); break;
                        case MethodReference m:
                            Use(m.DeclaringType);
                            Use(m.ReturnType);
                            if (m is GenericInstanceMethod g) { foreach (var argument in g.GenericArguments) { Use(argument); } }
                            break;
                        case FieldReference f: Use(f.DeclaringType); Use(f.FieldType); break;
                    }
                }
            }
        }

        return graph;
    }

    private static void UseArguments(CustomAttribute attribute, Action<TypeReference> use)
    {
        foreach (var argument in attribute.ConstructorArguments)
        {
            if (argument.Value is TypeReference type)
            {
                use(type);
            }
        }
    }

    /// <summary>The feature folder of a type: its (outermost declaring type's) namespace below <c>Parley.</c>, or null.</summary>
    private static string? Feature(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }

        return type.Namespace.StartsWith("Parley.", StringComparison.Ordinal) ? type.Namespace["Parley.".Length..] : null;
    }

    /// <summary>Tarjan's strongly connected components: each set of folders that reach one another.</summary>
    private static List<HashSet<string>> StronglyConnected(Dictionary<string, Dictionary<string, string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<HashSet<string>>();
        void Visit(string node)
        {
            index[node] = low[node] = index.Count;
            stack.Push(node);
            onStack.Add(node);
            foreach (var next in graph.GetValueOrDefault(node)?.Keys ?? Enumerable.Empty<string>())
            {
                if (!index.ContainsKey(next))
                {
                    Visit(next);
                    low[node] = Math.Min(low[node], low[next]);
                }
                else if (onStack.Contains(next) && index.TryGetValue(next, out var reached))
                {
                    low[node] = Math.Min(low[node], reached);
                }
            }

            if (low[node] == index[node])
            {
                var component = new HashSet<string>(StringComparer.Ordinal);
                string member;
                do
                {
                    member = stack.Pop();
                    onStack.Remove(member);
                    component.Add(member);
                }
                while (member != node);
                components.Add(component);
            }
        }

        foreach (var node in graph.Keys.ToList())
        {
            if (!index.ContainsKey(node))
            {
                Visit(node);
            }
        }

        return components;
    }
}
