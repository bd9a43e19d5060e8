using System.Text.Json;
using Parley.Tenants;

namespace Parley.Domain.Tests;

public sealed class MessengerSettingsTests
{
    [Fact]
    public void Defaults_are_an_embedded_window_titled_by_the_deployment()
    {
        var settings = new MessengerSettings();
        Assert.Equal(WindowMode.Embedded, settings.WindowMode);
        Assert.Null(settings.Title);
        Assert.Null(settings.Validate());
    }

    [Fact]
    public void Titles_are_bounded_and_free_of_control_characters_and_unknown_modes_are_refused()
    {
        Assert.Null(new MessengerSettings { Title = new string('x', MessengerSettings.MaxTitleLength) }.Validate());
        Assert.StartsWith("title is longer", new MessengerSettings { Title = new string('x', MessengerSettings.MaxTitleLength + 1) }.Validate(), StringComparison.Ordinal);
        Assert.StartsWith("title may not", new MessengerSettings { Title = "Help\u0007" }.Validate(), StringComparison.Ordinal);
        Assert.StartsWith("windowMode", new MessengerSettings { WindowMode = (WindowMode)7 }.Validate(), StringComparison.Ordinal);
    }

    [Fact]
    public void Window_modes_are_lower_case_strings_in_json()
    {
        Assert.Equal("\"window\"", JsonSerializer.Serialize(WindowMode.Window));
        Assert.Equal(WindowMode.Embedded, JsonSerializer.Deserialize<WindowMode>("\"embedded\""));
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<WindowMode>("\"popup\""));
    }
}
