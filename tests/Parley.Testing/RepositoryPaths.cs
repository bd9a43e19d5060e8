namespace Parley.Testing;

/// <summary>Folders of the checkout the tests run from (found from the test binaries).</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root: the first folder above the test binaries that holds Parley.slnx.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Parley.slnx")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("The repository root (Parley.slnx) was not found above the test binaries.");
        }
    }

    /// <summary>tests/interop: the npm implementations (jose, oidc-provider) Parley is checked against.</summary>
    public static string Interop => Path.Combine(Root, "tests", "interop");

    /// <summary>tests/browser: the Playwright checks run in Debian's Chromium.</summary>
    public static string Browser => Path.Combine(Root, "tests", "browser");
}
