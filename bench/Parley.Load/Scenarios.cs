using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Parley.Load;

/// <summary>The four scenarios, each against a started <see cref="Target"/>.</summary>
public static class Scenarios
{
    private const string Filler = "Hello, I have a question about my last order and the delivery date you gave me.";

    /// <summary>Consumers send (as fast as their window allows, or at a fixed total rate); agents answer every message.</summary>
    public static async Task<Result> MessagingAsync(Target target, LoadOptions options, string targetName, Action<string> progress)
    {
        var stats = new Stats();
        var agents = new List<AgentClient>();
        for (var i = 0; i < target.AgentEmails.Count; i++)
        {
            agents.Add(await AgentClient.ConnectAsync(target, target.Nodes[i % target.Nodes.Count], target.AgentEmails[i], stats));
        }

        var consumers = new ConsumerClient[options.Consumers];
        var jwtCount = (int)Math.Round(options.Consumers * options.Authenticated);
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(Enumerable.Range(0, options.Consumers).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var jwt = i < jwtCount ? Jwt(target, $"customer-{options.Run}-{i}") : null;
                    consumers[i] = await ConsumerClient.ConnectAsync(target, target.Nodes[i % target.Nodes.Count], jwt, options.Window, stats);
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        // Every conversation reaches an agent (automatic assignment) before the clock starts.
        var ready = Stopwatch.StartNew();
        while (agents.Sum(a => a.Subscribed) < options.Consumers)
        {
            if (ready.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Only {agents.Sum(a => a.Subscribed)} of {options.Consumers} conversations reached an agent.");
            }

            await Task.Delay(50);
        }

        using var stop = new CancellationTokenSource();
        var senders = options.Rate > 0
            ? [SendAtRateAsync(consumers, options.Rate / 2.0, stop.Token)] // agents answer each message: the total rate is twice the consumers'
            : consumers.Select(c => c.SendAsFastAsPossibleAsync(stop.Token)).ToArray();

        await Task.Delay(options.Warmup);
        stats.Start();
        var cpuBefore = Sampler.CpuSeconds(target.Processes);
        var clock = Stopwatch.StartNew();
        long peakRss = 0;
        while (clock.Elapsed < options.Duration)
        {
            await Task.Delay(1000);
            peakRss = Math.Max(peakRss, Sampler.RssBytes(target.Processes));
            progress($"{targetName,-10} {clock.Elapsed.TotalSeconds,4:0}s  delivered {stats.Delivered / clock.Elapsed.TotalSeconds,9:N0}/s  errors {stats.Errors}");
        }

        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = Sampler.CpuSeconds(target.Processes) - cpuBefore;
        stats.Stop();
        await stop.CancelAsync();
        await Task.WhenAll(senders).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        var result = new Result
        {
            Scenario = options.Rate > 0 ? $"latency at {options.Rate:N0} msg/s" : "throughput",
            Target = targetName,
            Setup = $"{options.Consumers} consumers ({options.Authenticated:P0} with JWTs), {target.AgentEmails.Count} agents" +
                (options.Rate > 0 ? "" : $", window {options.Window}") + $", {target.Nodes.Count} node(s)",
            DeliveredPerSecond = stats.Delivered / seconds,
            SentPerSecond = stats.Sent / seconds,
            EndToEnd = Percentiles.Of(stats.Latencies()),
            Ack = Percentiles.Of(stats.AckLatencies()),
            Errors = stats.Errors,
            ServerCpuPercent = cpu / seconds * 100,
            ServerRssMegabytes = peakRss / 1048576.0,
        };
        await Task.WhenAll(consumers.Select(c => c.DisposeAsync().AsTask()).Concat(agents.Select(a => a.DisposeAsync().AsTask())));
        return result;
    }

    private static async Task SendAtRateAsync(ConsumerClient[] consumers, double perSecond, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long sent = 0;
        var next = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var due = (long)(clock.Elapsed.TotalSeconds * perSecond);
            for (; sent < due; sent++)
            {
                _ = consumers[next].SendOneAsync();
                next = (next + 1) % consumers.Length;
            }

            await Task.Delay(1, CancellationToken.None);
        }
    }

    /// <summary>Opens as many consumer connections as asked and reports the server's memory per connection.</summary>
    public static async Task<Result> IdleAsync(Target target, LoadOptions options, string targetName, Action<string> progress)
    {
        await Task.Delay(2000);
        var before = Sampler.RssBytes(target.Processes);
        var clients = new Client?[options.Idle];
        var opened = 0;
        var errors = 0L;
        using var http = new HttpClient();

        // Two halves: the second one's growth is the marginal memory of a connection, without what
        // a server grows once whatever the count (JIT, pools, the GC's allocation budget).
        async Task OpenAsync(int from, int to)
        {
            using var gate = new SemaphoreSlim(64);
            await Task.WhenAll(Enumerable.Range(from, to - from).Select(async i =>
            {
                await gate.WaitAsync();
                try
                {
                    var node = target.Nodes[i % target.Nodes.Count];
                    var token = await SessionAsync(http, node, target.DeploymentId, null);
                    var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var client = await Client.ConnectAsync(ConsumerUri(node, target), null, f =>
                    {
                        if (f.GetProperty("type").GetString() == "ready")
                        {
                            ready.TrySetResult();
                        }
                    }, CancellationToken.None);
                    await client.SendAsync(JsonSerializer.Serialize(new { type = "auth", token }));
                    await ready.Task.WaitAsync(TimeSpan.FromSeconds(30));
                    clients[i] = client;
                    if (Interlocked.Increment(ref opened) % 1000 == 0)
                    {
                        progress($"{targetName,-10} {opened:N0} connections open");
                    }
                }
                catch (Exception exception) when (exception is not OutOfMemoryException)
                {
                    Interlocked.Increment(ref errors);
                }
                finally
                {
                    gate.Release();
                }
            }));
            await Task.Delay(5000); // let the server settle (GC) with these connections open
        }

        var half = options.Idle / 2;
        await OpenAsync(0, half);
        var (middle, openedAtMiddle) = (Sampler.RssBytes(target.Processes), opened);
        await OpenAsync(half, options.Idle);
        var after = Sampler.RssBytes(target.Processes);
        await Task.WhenAll(clients.Where(c => c is not null).Select(c => c!.DisposeAsync().AsTask()));
        return new Result
        {
            Scenario = "idle connections",
            Target = targetName,
            Setup = $"{options.Idle:N0} anonymous consumers asked for, each: session, WebSocket, auth",
            Connections = opened,
            Errors = errors,
            BytesPerConnection = opened == 0 ? 0 : (after - before) / (double)opened,
            MarginalBytesPerConnection = opened == openedAtMiddle ? 0 : (after - middle) / (double)(opened - openedAtMiddle),
            ServerRssMegabytes = after / 1048576.0,
        };
    }

    /// <summary>Visitor sessions with a signed RS256 JWT, as fast as the concurrency allows, beside raw RSA verification.</summary>
    public static async Task<Result> SessionsAsync(Target target, LoadOptions options, string targetName, Action<string> progress)
    {
        var tokens = Enumerable.Range(0, 500).Select(i => Jwt(target, $"visitor-{i}")).ToArray();
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency });
        var stop = DateTime.UtcNow + options.Warmup + options.Duration;
        var measureFrom = DateTime.UtcNow + options.Warmup;
        long done = 0, errors = 0, next = 0;
        var latencies = new List<double>();
        double cpuBefore = 0;
        var started = false;
        var clock = new Stopwatch();
        await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(async _ =>
        {
            while (DateTime.UtcNow < stop)
            {
                if (!started && DateTime.UtcNow >= measureFrom)
                {
                    lock (latencies)
                    {
                        if (!started)
                        {
                            started = true;
                            cpuBefore = Sampler.CpuSeconds(target.Processes);
                            clock.Start();
                        }
                    }
                }

                var jwt = tokens[Interlocked.Increment(ref next) % tokens.Length];
                var begin = Stopwatch.GetTimestamp();
                try
                {
                    await SessionAsync(http, target.Nodes[(int)(next % target.Nodes.Count)], target.DeploymentId, jwt);
                    if (started)
                    {
                        Interlocked.Increment(ref done);
                        lock (latencies)
                        {
                            latencies.Add(Stopwatch.GetElapsedTime(begin).TotalMilliseconds);
                        }
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }));
        var seconds = clock.Elapsed.TotalSeconds;
        var cpu = Sampler.CpuSeconds(target.Processes) - cpuBefore;
        progress($"{targetName,-10} {done / seconds:N0} sessions/s");
        return new Result
        {
            Scenario = "sessions with RS256 JWT",
            Target = targetName,
            Setup = $"POST /api/v1/sessions, {options.Concurrency} in flight, 500 distinct visitors",
            SessionsPerSecond = done / seconds,
            EndToEnd = Percentiles.Of(latencies),
            Errors = errors,
            ServerCpuPercent = cpu / seconds * 100,
            RawVerifyPerSecond = RawVerifyPerSecond(target.BrandKey, tokens[0]),
        };
    }

    /// <summary>
    /// Abuse: the latency scenario at a fixed rate, first alone, then again while one client floods
    /// the server: session starts as fast as it can from one address, and a WebSocket that sends
    /// message frames with no pause (reconnecting whenever it is cut off). The server runs with its
    /// default limits. Returns both runs; the second carries what happened to the flood.
    /// </summary>
    public static async Task<IReadOnlyList<Result>> AbuseAsync(Target target, LoadOptions options, string targetName, Action<string> progress)
    {
        var normal = await MessagingAsync(target, options, targetName, progress);
        var flood = new FloodCounts();
        using var stop = new CancellationTokenSource();
        var flooding = Task.WhenAll(FloodSessionsAsync(target, flood, stop.Token), FloodFramesAsync(target, flood, stop.Token));
        var loud = await MessagingAsync(target, options with { Run = 1 }, targetName, progress);
        await stop.CancelAsync();
        await flooding;
        var setup = normal.Setup + $", {options.Rate:N0} msg/s";
        return
        [
            normal with { Scenario = "abuse", Setup = setup, Note = "alone" },
            loud with { Scenario = "abuse", Setup = setup, Note = flood.ToString() },
        ];
    }

    private sealed class FloodCounts
    {
        public long SessionsAccepted;
        public long SessionsRefused;
        public long FramesSent;
        public long FramesAcknowledged;
        public long FramesRefused;
        public long Disconnects;

        public override string ToString() =>
            $"flood: {SessionsAccepted + SessionsRefused:N0} session starts from one address, {SessionsRefused:N0} refused (429); " +
            $"{FramesSent:N0} message frames written into the socket, {FramesAcknowledged:N0} stored, {FramesRefused:N0} rate_limited notices, {Disconnects:N0} disconnects";
    }

    private static async Task FloodSessionsAsync(Target target, FloodCounts flood, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target.Nodes[0], "/api/v1/sessions"))
                {
                    Content = JsonContent.Create(new { deploymentId = target.DeploymentId }),
                };
                request.Headers.Add("X-Forwarded-For", "198.51.100.66");
                using var response = await http.SendAsync(request, CancellationToken.None);
                if (response.StatusCode == System.Net.HttpStatusCode.TooManyRequests)
                {
                    Interlocked.Increment(ref flood.SessionsRefused);
                }
                else
                {
                    Interlocked.Increment(ref flood.SessionsAccepted);
                }
            }
        }));
    }

    private static async Task FloodFramesAsync(Target target, FloodCounts flood, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            string token;
            try
            {
                token = await SessionAsync(http, target.Nodes[0], target.DeploymentId, null, $"198.51.100.{(attempt++ % 200) + 1}");
            }
            catch (HttpRequestException)
            {
                await Task.Delay(1000, CancellationToken.None);
                continue;
            }

            var started = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var client = await Client.ConnectAsync(ConsumerUri(target.Nodes[0], target), null, frame =>
            {
                switch (frame.GetProperty("type").GetString())
                {
                    case "conversation":
                        started.TrySetResult(frame.GetProperty("conversation").GetProperty("id").GetGuid());
                        break;
                    case "message.ack":
                        Interlocked.Increment(ref flood.FramesAcknowledged);
                        break;
                    case "error" when frame.GetProperty("code").GetString() == "rate_limited":
                        Interlocked.Increment(ref flood.FramesRefused);
                        break;
                }
            }, CancellationToken.None);
            await client.SendAsync(JsonSerializer.Serialize(new { type = "auth", token }), CancellationToken.None);
            await client.SendAsync(JsonSerializer.Serialize(new { type = "conversation.start" }), CancellationToken.None);
            var conversationId = await started.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            try
            {
                for (var i = 0; !cancellationToken.IsCancellationRequested && !client.Closed.IsCompleted; i++)
                {
                    // Paced by the server, this send blocks once the socket's buffers are full: the flood's own backpressure.
                    await client.SendAsync(JsonSerializer.Serialize(new { type = "message.send", conversationId, clientMessageId = $"flood-{i}", text = Filler }), cancellationToken);
                    Interlocked.Increment(ref flood.FramesSent);
                }
            }
            catch (Exception exception) when (exception is System.Net.WebSockets.WebSocketException or ObjectDisposedException or OperationCanceledException)
            {
            }

            if (!cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref flood.Disconnects);
            }
        }
    }

    /// <summary>The machine's bare RS256 verification rate on all cores, on the same token (the physical limit for logins).</summary>
    private static double RawVerifyPerSecond(RSA key, string jwt)
    {
        var parts = jwt.Split('.');
        var input = Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]);
        var signature = Convert.FromBase64String(parts[2].Replace('-', '+').Replace('_', '/').PadRight((parts[2].Length + 3) / 4 * 4, '='));
        long count = 0;
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3;
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            using var verifier = RSA.Create();
            verifier.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
            long mine = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                if (verifier.VerifyData(input, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1))
                {
                    mine++;
                }
            }

            Interlocked.Add(ref count, mine);
        });
        return count / 3.0;
    }

    public static string Jwt(Target target, string subject)
    {
        static string B64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = B64("""{"alg":"RS256","typ":"JWT"}"""u8.ToArray());
        var payload = B64(JsonSerializer.SerializeToUtf8Bytes(new
        {
            iss = Target.Issuer, aud = "parley", sub = subject, exp = now + 3600, iat = now, given_name = "Load", email = subject + "@load.test",
            lwicontexts = new { msdyn_isvip = "false" },
        }));
        var signature = target.BrandKey.SignData(Encoding.ASCII.GetBytes(header + "." + payload), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return header + "." + payload + "." + B64(signature);
    }

    /// <summary>
    /// Starts a visitor session; a retryable 503 is retried after a short pause, as the messenger
    /// does. Each visitor comes from an address of its own (X-Forwarded-For, which Parley believes
    /// from loopback), as real visitors do, so per-address limits apply to each one separately.
    /// </summary>
    public static async Task<string> SessionAsync(HttpClient http, Uri node, Guid deploymentId, string? jwt, string? address = null)
    {
        address ??= VisitorAddress(Interlocked.Increment(ref _visitors));
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(node, "/api/v1/sessions")) { Content = JsonContent.Create(new { deploymentId, jwt }) };
            request.Headers.Add("X-Forwarded-For", address);
            var response = await http.SendAsync(request);
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && attempt < 5)
            {
                Interlocked.Increment(ref _sessionRetries);
                await Task.Delay(200 * (attempt + 1));
                continue;
            }

            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("visitorToken").GetString()!;
        }
    }

    private static long _sessionRetries;
    private static long _visitors;

    private static string VisitorAddress(long n) => $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}";

    /// <summary>Session requests answered 503 (storage busy) and retried, over the whole run.</summary>
    public static long SessionRetries => Interlocked.Read(ref _sessionRetries);

    public static Uri ConsumerUri(Uri node, Target target) => new($"ws://{node.Authority}/ws/consumer?deploymentId={target.DeploymentId}");

    public static string Text() => Stopwatch.GetTimestamp() + " " + Filler;

    public static bool IsTimed(string text) => text.Length > 0 && char.IsAsciiDigit(text[0]);

    /// <summary>Milliseconds since the timestamp a message's text starts with.</summary>
    public static double AgeOf(string text) =>
        Stopwatch.GetElapsedTime(long.Parse(text.AsSpan(0, text.IndexOf(' ')))).TotalMilliseconds;
}
