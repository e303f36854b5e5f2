using LoadTest;

// The load and chaos harness: dotnet run --project tools/LoadTest -c Release -- [--machines 50] [--sales 20] [--faults] [--seed N] [--json out.json]
// Exit code 0: every invariant held; 1: a violation (each named by its sale); 2: bad arguments.
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

var report = await LoadHarness.RunAsync(options, stop.Token);
Console.WriteLine();
Console.Write(report.ToText());
if (options.JsonPath is { } path)
{
    await File.WriteAllTextAsync(path, report.ToJson());
    Console.WriteLine($"JSON summary: {Path.GetFullPath(path)}");
}

return report.Passed ? 0 : 1;
