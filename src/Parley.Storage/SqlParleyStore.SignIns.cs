using System.Runtime.CompilerServices;

namespace Parley.Storage;

public abstract partial class SqlParleyStore : ISignInThrottleStore
{
    public async Task<DateTimeOffset?> GetSignInLockAsync(string keyHash, CancellationToken cancellationToken) =>
        (await QuerySingleAsync(
            "SELECT locked_until FROM sign_in_failures WHERE key_hash = @key",
            r => new StrongBox<DateTimeOffset?>(r.IsDBNull(0) ? null : ReadTime(r, 0)),
            cancellationToken,
            ("key", keyHash)))?.Value;

    public Task<int> RecordSignInFailureAsync(string keyHash, DateTimeOffset now, Func<int, TimeSpan?> lockFor, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await BeginWriteAsync(connection, cancellationToken);
            int failures;
            await using (var count = Command(connection, transaction,
                "INSERT INTO sign_in_failures (key_hash, failures, locked_until, updated_at) VALUES (@key, 1, NULL, @now) " +
                "ON CONFLICT (key_hash) DO UPDATE SET failures = sign_in_failures.failures + 1, updated_at = @now RETURNING failures",
                ("key", keyHash), ("now", ToDb(now))))
            {
                failures = Convert.ToInt32(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
            }

            if (lockFor(failures) is { } duration)
            {
                await using var locking = Command(connection, transaction,
                    "UPDATE sign_in_failures SET locked_until = @until WHERE key_hash = @key", ("until", ToDb(now + duration)), ("key", keyHash));
                await locking.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return failures;
        }, cancellationToken);

    public Task ClearSignInFailuresAsync(string keyHash, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM sign_in_failures WHERE key_hash = @key", cancellationToken, ("key", keyHash));

    public Task<int> PurgeSignInFailuresAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "DELETE FROM sign_in_failures WHERE updated_at < @before AND (locked_until IS NULL OR locked_until < @before)",
            cancellationToken, ("before", ToDb(before)));
}
