namespace Parley.Server.Tests.Probe;

/// <summary>For <see cref="ArchitectureTests"/>: uses a server type only inside a method body.</summary>
internal static class BodyOnlyUse
{
    public static string Name() => typeof(ArchitectureTests).Name;
}
