namespace Parley.Server.Tests;

/// <summary>
/// The agent workspace and admin console (<c>/app/</c>, built from <c>src/Parley.Workspace</c>) in
/// Debian's Chromium against a real Parley: each test runs one scenario of
/// <c>tests/browser/workspace.mjs</c>. The customer is a test client on the public visitor
/// protocol; the demo brand's tokens live 30 seconds here, so the scenario sees a login expire.
/// </summary>
public sealed class WorkspaceBrowserTests : IClassFixture<WorkspaceBrowserTests.WorkspaceServer>
{
    private readonly WorkspaceServer _demo;

    public WorkspaceBrowserTests(WorkspaceServer demo) => _demo = demo;

    public sealed class WorkspaceServer : WidgetBrowserTests.DemoServer
    {
        protected override string[] Settings => ["--Parley:Demo:TokenLifetime=00:00:30", "--Parley:Demo:SessionTtlMinutes=0"];
    }

    [Fact]
    public Task An_agent_accepts_a_conversation_talks_both_ways_and_sees_the_customer_log_in_and_the_login_expire() =>
        BrowserScenario.RunAsync("workspace.mjs", "agent", _demo.Server);

    [Fact]
    public Task After_a_server_restart_the_workspace_reconnects_and_a_reply_written_meanwhile_is_sent_once() =>
        BrowserScenario.RunAsync("workspace.mjs", "restart", _demo.Server, async () =>
        {
            await _demo.Server.KillAsync();
            await _demo.Server.StartAsync();
        });

    [Fact]
    public Task An_admin_creates_authentication_settings_and_tests_a_good_and_a_forged_token() =>
        BrowserScenario.RunAsync("workspace.mjs", "admin", _demo.Server);
}
