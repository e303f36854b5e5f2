using System.Diagnostics;

namespace Infra.Tests;

/// <summary>The Bicep CLI from NuGet, located (and restored when missing) by scripts/check-infra.sh, the same
/// CLI CI lints with. Never skipped: without a CLI the tests fail.</summary>
internal static class BicepCli
{
    private static readonly Lazy<string> CliPath = new(Locate);

    public static string Path => CliPath.Value;

    public static ProcessResult Run(string workingDirectory, params string[] args) =>
        ProcessResult.Run(Path, workingDirectory, TimeSpan.FromMinutes(3), args);

    private static string Locate()
    {
        var result = ProcessResult.Run("bash", Repo.Root, TimeSpan.FromMinutes(5), Repo.PathOf("scripts", "check-infra.sh"), "--bicep-path");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/check-infra.sh --bicep-path failed ({result.ExitCode}): {result.StandardError}");
        }
        var path = result.StandardOutput.Trim().Split('\n').Last().Trim();
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Bicep CLI not found at '{path}'");
        }
        return path;
    }
}

internal sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public static ProcessResult Run(string fileName, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        startInfo.Environment["DOTNET_NOLOGO"] = "1";

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start " + fileName);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', args)} did not finish within {timeout}");
        }
        process.WaitForExit();
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
