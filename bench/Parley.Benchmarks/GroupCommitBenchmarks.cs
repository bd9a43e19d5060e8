using BenchmarkDotNet.Attributes;
using Parley.Consumers;
using Parley.Conversations;
using Parley.Storage.Sqlite;
using Parley.Tenants;

namespace Parley.Benchmarks;

/// <summary>
/// Why the message writer groups concurrent sends: the cost of storing 64 messages durably
/// (SQLite, WAL, synchronous=FULL) in 64 transactions versus in batches.
/// </summary>
[MemoryDiagnoser]
public class GroupCommitBenchmarks
{
    private const int Messages = 64;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "parley-bench-" + Guid.NewGuid().ToString("N"));
    private SqliteParleyStore _store = null!;
    private Guid _conversationId;
    private Guid _consumerId;
    private int _counter;

    [Params(1, 8, 64)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _store = new SqliteParleyStore(new SqliteStoreOptions { Path = Path.Combine(_directory, "bench.db") });
        await _store.MigrateAsync(CancellationToken.None);
        var now = DateTimeOffset.UtcNow;
        var tenant = new Tenant(Guid.NewGuid(), "Bench", now);
        var deployment = new Deployment(Guid.NewGuid(), tenant.Id, "web", [], now);
        var consumer = Consumer.Anonymous(tenant.Id, now);
        await _store.CreateTenantAsync(tenant, CancellationToken.None);
        await _store.CreateDeploymentAsync(deployment, CancellationToken.None);
        await _store.CreateConsumerAsync(consumer, CancellationToken.None);
        _consumerId = consumer.Id;
        _conversationId = Guid.NewGuid();
        await _store.CreateConversationAsync(
            new Conversation(_conversationId, tenant.Id, deployment.Id, consumer.Id, ConversationStatus.Open, "default", null, 0,
                EngagementAttributes.Empty, now, now, null),
            CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Stores 64 messages durably, <see cref="BatchSize"/> per transaction.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public async Task Store64Messages()
    {
        for (var done = 0; done < Messages; done += BatchSize)
        {
            var batch = new List<NewMessage>(BatchSize);
            for (var i = 0; i < BatchSize; i++)
            {
                var id = Interlocked.Increment(ref _counter);
                batch.Add(new NewMessage(_conversationId, MessageKind.Text, ParticipantRole.Consumer, _consumerId, $"b{id}", "benchmark message", DateTimeOffset.UtcNow));
            }

            await _store.AppendMessagesAsync(batch, CancellationToken.None);
        }
    }
}
