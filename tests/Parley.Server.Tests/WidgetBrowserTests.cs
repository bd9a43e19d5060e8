namespace Parley.Server.Tests;

/// <summary>
/// The messenger widget (<c>/widget.js</c>) on the demo brand's site in Debian's Chromium, against
/// Parley as a separate process (so a scenario can restart it): each test runs one scenario of
/// <c>tests/browser/widget.mjs</c>, which drives the pages and plays the agent over the public API.
/// </summary>
public sealed class WidgetBrowserTests : IClassFixture<WidgetBrowserTests.DemoServer>
{
    private readonly DemoServer _demo;

    public WidgetBrowserTests(DemoServer demo) => _demo = demo;

    /// <summary>Parley with the demo brand on SQLite in a temporary folder, on a port of its own.</summary>
    public class DemoServer : IAsyncLifetime
    {
        private readonly string _directory = Directory.CreateTempSubdirectory("parley-widget-").FullName;

        public ServerProcess Server { get; private set; } = null!;

        public ServerProcess Start(params string[] settings) => new(_directory, port =>
        [
            $"--Parley:Demo:AllowedOrigins:0=http://127.0.0.1:{port}",
            $"--Parley:Storage:Sqlite:Path={Path.Combine(_directory, $"parley-{port}.db")}",
            .. settings,
        ]);

        /// <summary>Settings of the shared server beyond the demo's defaults.</summary>
        protected virtual string[] Settings => [];

        public async Task InitializeAsync()
        {
            Server = Start(Settings);
            await Server.StartAsync();
        }

        public async Task DisposeAsync()
        {
            await Server.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public Task An_anonymous_visitor_chats_with_the_bot_by_keyboard_and_axe_finds_no_serious_violations() => RunAsync("anonymous");

    [Fact]
    public Task On_the_account_page_the_implicit_flow_logs_the_visitor_in_before_the_chat() => RunAsync("implicit");

    [Fact]
    public Task On_the_help_page_the_code_flow_logs_the_visitor_in_before_the_chat() => RunAsync("code");

    [Fact]
    public Task A_mid_chat_login_in_a_popup_on_a_second_device_continues_in_the_customers_one_open_conversation() => RunAsync("midchat");

    [Fact]
    public Task In_a_separate_window_the_login_redirects_the_window_and_returns_to_the_conversation() => RunAsync("window");

    [Fact]
    public Task Two_devices_of_the_same_logged_in_customer_share_one_conversation() => RunAsync("devices");

    [Fact]
    public Task An_authenticated_conversation_is_not_shown_on_a_public_page() => RunAsync("public");

    [Fact]
    public Task On_a_shared_device_the_next_customer_sees_nothing_of_the_last_ones_conversation() => RunAsync("shared");

    [Fact]
    public Task While_minimised_new_messages_raise_the_unread_badge_and_opening_sends_a_read_receipt() => RunAsync("unread");

    [Fact]
    public Task A_visitor_ends_resumes_starts_anew_and_clears_the_history_from_this_device() => RunAsync("lifecycle");

    [Fact]
    public Task The_authenticated_conversation_takes_priority_and_the_anonymous_one_returns_after_logout() => RunAsync("priority");

    [Fact]
    public Task After_a_server_restart_the_widget_reconnects_and_nothing_is_lost_or_duplicated() =>
        RunAsync("restart", _demo.Server, async () =>
        {
            await _demo.Server.KillAsync();
            await _demo.Server.StartAsync();
        });

    [Fact]
    public async Task An_expired_login_is_renewed_from_the_page_or_with_the_messengers_log_in_button_on_a_public_page_and_in_the_separate_window()
    {
        await using var server = _demo.Start("--Parley:Demo:TokenLifetime=00:00:20", "--Parley:Demo:SessionTtlMinutes=0");
        await server.StartAsync();
        await RunAsync("expiry", server);
    }

    private Task RunAsync(string scenario) => RunAsync(scenario, _demo.Server);

    private static Task RunAsync(string scenario, ServerProcess server, Func<Task>? restart = null) =>
        BrowserScenario.RunAsync("widget.mjs", scenario, server, restart);
}
