namespace Parley.Storage;

public abstract partial class SqlParleyStore : IUsedTokenStore
{
    public async Task<bool> TryUseTokenIdAsync(string idHash, DateTimeOffset keepUntil, CancellationToken cancellationToken) =>
        await ExecuteAsync(
            "INSERT INTO used_token_ids (id_hash, keep_until) VALUES (@id, @until) ON CONFLICT (id_hash) DO NOTHING",
            cancellationToken, ("id", idHash), ("until", ToDb(keepUntil))) == 1;

    public async Task<bool> IsTokenIdUsedAsync(string idHash, CancellationToken cancellationToken) =>
        await QuerySingleAsync("SELECT id_hash FROM used_token_ids WHERE id_hash = @id", r => r.GetString(0), cancellationToken, ("id", idHash)) is not null;

    public Task<int> PurgeUsedTokenIdsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM used_token_ids WHERE keep_until < @now", cancellationToken, ("now", ToDb(now)));
}
