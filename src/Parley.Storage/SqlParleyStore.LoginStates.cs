namespace Parley.Storage;

public abstract partial class SqlParleyStore : ILoginStateStore
{
    public Task CreateLoginStateAsync(LoginState state, CancellationToken cancellationToken) =>
        ExecuteAsync(
            "INSERT INTO login_states (state_hash, tenant_id, deployment_id, conversation_id, nonce, code_verifier, redirect_uri, created_at, expires_at, consumer_id, " +
            "acr_values, max_age) VALUES (@hash, @tenant, @deployment, @conversation, @nonce, @verifier, @redirect, @at, @expires, @consumer, @acr, @maxAge)",
            cancellationToken,
            ("hash", state.StateHash),
            ("tenant", ToDb(state.TenantId)),
            ("deployment", ToDb(state.DeploymentId)),
            ("conversation", state.ConversationId is { } c ? ToDb(c) : null),
            ("nonce", state.Nonce),
            ("verifier", state.CodeVerifier),
            ("redirect", state.RedirectUri),
            ("at", ToDb(state.CreatedAt)),
            ("expires", ToDb(state.ExpiresAt)),
            ("consumer", state.ConsumerId is { } consumer ? ToDb(consumer) : null),
            ("acr", state.Assurance?.AcrValues),
            ("maxAge", state.Assurance?.MaxAgeSeconds));

    public async Task<LoginState?> ConsumeLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // DELETE … RETURNING: the row is gone for everyone the moment one caller takes it.
        var state = await QuerySingleAsync(
            $"DELETE FROM login_states WHERE state_hash = @hash RETURNING {LoginStateColumns}",
            ReadLoginState,
            cancellationToken,
            ("hash", stateHash));
        return state is not null && state.ExpiresAt > now ? state : null;
    }

    public async Task<LoginState?> FindLoginStateAsync(string stateHash, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var state = await QuerySingleAsync(
            $"SELECT {LoginStateColumns} FROM login_states WHERE state_hash = @hash",
            ReadLoginState,
            cancellationToken,
            ("hash", stateHash));
        return state is not null && state.ExpiresAt > now ? state : null;
    }

    public Task<int> PurgeExpiredLoginStatesAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM login_states WHERE expires_at <= @now", cancellationToken, ("now", ToDb(now)));

    private const string LoginStateColumns =
        "state_hash, tenant_id, deployment_id, conversation_id, nonce, code_verifier, redirect_uri, created_at, expires_at, consumer_id, acr_values, max_age";

    private LoginState ReadLoginState(DbDataReader r) =>
        new(r.GetString(0), ReadGuid(r, 1), ReadGuid(r, 2), r.IsDBNull(3) ? null : ReadGuid(r, 3), r.GetString(4), r.GetString(5),
            r.GetString(6), ReadTime(r, 7), ReadTime(r, 8), r.IsDBNull(9) ? null : ReadGuid(r, 9),
            r.IsDBNull(10) && r.IsDBNull(11) ? null : new LoginAssurance(NullableString(r, 10), r.IsDBNull(11) ? null : ToInt(r.GetValue(11))));
}
