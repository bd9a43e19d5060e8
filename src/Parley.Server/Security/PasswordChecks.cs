using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Parley.Agents;

namespace Parley.Security;

/// <summary>
/// Checks passwords off the request threads. PBKDF2 is slow on purpose (tens of milliseconds of
/// CPU each), so checks run on <see cref="LimitOptions.PasswordCheckThreads"/> threads of their
/// own, never on the thread pool that serves messaging: a flood of sign-ins queues behind them and
/// takes at most those threads' share of the CPU. A sign-in for an account that does not exist
/// costs the same check (against a hash of a random password), so the time taken tells nothing.
/// </summary>
public sealed class PasswordChecks : IDisposable
{
    private readonly BlockingCollection<Check> _queue;
    private readonly IPasswordHasher<Agent> _hasher;
    private readonly Agent _nobody = new(Guid.Empty, Guid.Empty, "", "", "", AgentRole.Agent, 0, DateTimeOffset.UnixEpoch);
    private readonly Lazy<string> _nobodysHash;
    private readonly Thread[] _threads;

    private sealed record Check(Agent? Agent, string Password, TaskCompletionSource<bool> Verdict);

    public PasswordChecks(IPasswordHasher<Agent> hasher, IOptions<LimitOptions> options)
    {
        _hasher = hasher;
        _nobodysHash = new(() => hasher.HashPassword(_nobody, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24))));
        _queue = new BlockingCollection<Check>(options.Value.PasswordChecksQueued);
        _threads = [.. Enumerable.Range(0, options.Value.PasswordCheckThreads).Select(i => new Thread(Run) { IsBackground = true, Name = $"parley-password-{i}" })];
        foreach (var thread in _threads)
        {
            thread.Start();
        }
    }

    /// <summary>
    /// Whether <paramref name="password"/> is <paramref name="agent"/>'s (always false without an
    /// agent, after the same work). Too many checks already waiting is a retryable <c>rate_limited</c>.
    /// </summary>
    public Task<bool> VerifyAsync(Agent? agent, string? password)
    {
        var check = new Check(agent, password ?? "", new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool queued;
        try
        {
            queued = _queue.TryAdd(check);
        }
        catch (InvalidOperationException)
        {
            queued = false; // the node is stopping
        }

        return queued
            ? check.Verdict.Task
            : throw new ParleyException(ErrorCodes.RateLimited, "Too many sign-ins at once; try again in a few seconds.", StatusCodes.Status429TooManyRequests, retryable: true);
    }

    private void Run()
    {
        foreach (var check in _queue.GetConsumingEnumerable())
        {
            try
            {
                var (agent, hash) = check.Agent is { } known ? (known, known.PasswordHash) : (_nobody, _nobodysHash.Value);
                var verdict = check.Password.Length > 0 && _hasher.VerifyHashedPassword(agent, hash, check.Password) != PasswordVerificationResult.Failed;
                check.Verdict.TrySetResult(verdict && check.Agent is not null);
            }
            catch (Exception exception) when (exception is FormatException or CryptographicException)
            {
                check.Verdict.TrySetResult(false); // a stored hash Parley cannot read matches nothing
            }
            catch (Exception exception)
            {
                // Never out of this thread (it would end the process): the sign-in gets the failure.
                check.Verdict.TrySetException(exception);
            }
        }
    }

    /// <summary>Stops taking checks; the threads finish what is queued and end (the collection is left to the collector).</summary>
    public void Dispose() => _queue.CompleteAdding();
}
