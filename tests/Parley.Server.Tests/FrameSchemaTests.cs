using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Parley.Realtime;
using Parley.Testing;

namespace Parley.Server.Tests;

/// <summary>
/// The TypeScript client (src/Parley.Client) checks its frame types against
/// src/Parley.Client/protocol/frames.schema.json; this test keeps that file equal to the JSON Schema
/// of the server's frame records, exported from the same options the server serializes them with.
/// A frame or member added, renamed or removed on either side fails one of the two tests.
/// </summary>
public sealed class FrameSchemaTests
{
    private const string UpdateVariable = "PARLEY_UPDATE_SCHEMA";

    private static string SchemaPath => Path.Combine(RepositoryPaths.Root, "src", "Parley.Client", "protocol", "frames.schema.json");

    [Fact]
    public void The_client_frame_schema_is_the_one_the_server_frame_records_export()
    {
        var exported = FrameSchema.Export();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(SchemaPath, exported);
            return;
        }

        var checkedIn = File.Exists(SchemaPath) ? File.ReadAllText(SchemaPath).ReplaceLineEndings("\n") : "";
        if (checkedIn != exported)
        {
            var want = exported.Split('\n');
            var have = checkedIn.Split('\n');
            var line = Enumerable.Range(0, Math.Max(want.Length, have.Length))
                .First(i => i >= want.Length || i >= have.Length || want[i] != have[i]);
            Assert.Fail(
                $"The server's frames changed: {SchemaPath} is out of date (first difference at line {line + 1}: "
                + $"file has `{(line < have.Length ? have[line].Trim() : "<end>")}`, the server exports `{(line < want.Length ? want[line].Trim() : "<end>")}`). "
                + $"Rewrite it with `{UpdateVariable}=1 dotnet test tests/Parley.Server.Tests --filter FullyQualifiedName~{nameof(FrameSchemaTests)}`, "
                + "then run `npx vitest run` in src/Parley.Client: it says which TypeScript frame types in src/Parley.Client/src/frames.ts "
                + "and which entries of src/Parley.Client/src/members.ts to change.");
        }
    }

    [Fact]
    public void A_server_frame_member_omitted_when_null_is_optional_and_never_null_in_the_schema()
    {
        var schema = JsonNode.Parse(FrameSchema.Export())!;
        var error = schema["$defs"]!["ServerFrame"]!["anyOf"]!.AsArray()
            .Single(s => (string?)s!["properties"]!["type"]!["const"] == "error")!;
        var required = error["required"]!.AsArray().Select(n => (string)n!).ToHashSet();
        Assert.Contains("code", required);
        Assert.DoesNotContain("clientMessageId", required);
        Assert.DoesNotContain("requestId", required);
        Assert.Equal("string", (string?)error["properties"]!["clientMessageId"]!["type"]);
    }

    [Fact]
    public void A_client_frame_member_the_schema_leaves_optional_may_be_left_out()
    {
        var frame = FrameReader.Parse("""{"type":"conversation.subscribe","conversationId":"0b8f4a52-6c1d-4c57-9a0e-4a3f1c2d9e10"}"""u8, out var error);
        Assert.Null(error);
        Assert.Equal(0, Assert.IsType<SubscribeFrame>(frame).Since);
    }
}

/// <summary>The JSON Schema of the frames, as the client package keeps it.</summary>
internal static class FrameSchema
{
    public static string Export()
    {
        var options = FrameJsonContext.Default.Options;
        var document = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$comment"] = "Generated from src/Parley.Server/Realtime/Frames.cs by FrameSchemaTests (PARLEY_UPDATE_SCHEMA=1 rewrites it). "
                + "ClientFrame: what the server reads (required = must be sent). ServerFrame: what it writes (required = always present, possibly null; "
                + "the others are omitted when they have no value).",
            ["$defs"] = new JsonObject
            {
                ["ClientFrame"] = Rebase(options.GetJsonSchemaAsNode(typeof(InboundFrame), Exporter(written: false)), "ClientFrame"),
                ["ServerFrame"] = Rebase(options.GetJsonSchemaAsNode(typeof(OutboundFrame), Exporter(written: true)), "ServerFrame"),
            },
        };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }).ReplaceLineEndings("\n") + "\n";
    }

    private static JsonSchemaExporterOptions Exporter(bool written) => new()
    {
        TreatNullObliviousAsNonNullable = true,
        TransformSchemaNode = (context, node) => written ? AsWritten(context, node) : AsRead(context, node),
    };

    /// <summary>
    /// The exporter lists every constructor parameter as required; the server only refuses a frame
    /// without a <c>[JsonRequired]</c> member (the others default: <c>since</c> is 0).
    /// </summary>
    private static JsonNode AsRead(JsonSchemaExporterContext context, JsonNode node)
    {
        if (node is JsonObject schema && context.TypeInfo.Kind == JsonTypeInfoKind.Object && schema["properties"] is JsonObject)
        {
            var required = context.TypeInfo.Properties.Where(p => p.IsRequired).Select(p => (JsonNode)p.Name).ToArray();
            if (required.Length > 0)
            {
                schema["required"] = new JsonArray(required);
            }
            else
            {
                schema.Remove("required");
            }
        }

        return node;
    }

    /// <summary>
    /// The exporter describes what deserialization needs; for the frames the server writes, what a
    /// client can rely on matters: every member is written unless it is ignored when null.
    /// </summary>
    private static JsonNode AsWritten(JsonSchemaExporterContext context, JsonNode node)
    {
        if (node is not JsonObject schema)
        {
            return node;
        }

        if (schema["type"] is JsonArray types)
        {
            var written = types.Select(t => (string)t!).ToList();
            if (schema.Remove("pattern"))
            {
                // Numbers are read from strings too (web defaults), but always written as numbers.
                written.Remove("string");
            }

            if (context.PropertyInfo is { } property && OmittedWhenNull(property))
            {
                written.Remove("null");
            }

            schema["type"] = written.Count == 1 ? written[0] : new JsonArray([.. written.Select(t => (JsonNode)t)]);
        }

        if (context.TypeInfo.Kind == JsonTypeInfoKind.Object && schema["properties"] is JsonObject members)
        {
            var omitted = context.TypeInfo.Properties.Where(OmittedWhenNull).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            schema["required"] = new JsonArray([.. members.Select(m => m.Key).Where(name => !omitted.Contains(name)).Select(name => (JsonNode)name)]);
        }

        return schema;
    }

    private static bool OmittedWhenNull(JsonPropertyInfo property)
    {
        var member = property.AttributeProvider as MemberInfo
            ?? (MemberInfo?)property.DeclaringType.GetProperty(property.Name, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return member?.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.WhenWritingNull };
    }

    /// <summary>The exporter's <c>$ref</c>s point into the schema it returned; here that schema sits under <c>$defs</c>.</summary>
    private static JsonNode Rebase(JsonNode node, string name)
    {
        switch (node)
        {
            case JsonObject schema:
                if (schema["$ref"] is JsonValue reference && ((string)reference!).StartsWith('#'))
                {
                    schema["$ref"] = $"#/$defs/{name}{((string)reference!)[1..]}";
                }

                foreach (var (_, child) in schema.ToList())
                {
                    if (child is not null)
                    {
                        Rebase(child, name);
                    }
                }

                break;
            case JsonArray items:
                foreach (var child in items)
                {
                    if (child is not null)
                    {
                        Rebase(child, name);
                    }
                }

                break;
        }

        return node;
    }
}
