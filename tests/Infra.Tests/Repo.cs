namespace Infra.Tests;

/// <summary>Paths in the repository, found from the test assembly's location (the folder with VendingFunctions.sln).</summary>
internal static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "VendingFunctions.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("VendingFunctions.sln not found above " + AppContext.BaseDirectory);
    }
}
