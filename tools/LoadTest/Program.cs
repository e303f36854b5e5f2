using System.Globalization;
using LoadTest;
using Spectre.Console;

// The load and chaos harness: dotnet run --project tools/LoadTest -c Release -- [--machines 50] [--sales 20] [--instances 1] [--faults] [--seed N] [--json out.json]
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

LoadReport report = null!;
await AnsiConsole.Progress()
    .AutoClear(false)
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
    .StartAsync(async context =>
    {
        var drive = context.AddTask("drive: sales finished", autoStart: false, maxValue: options.Machines * options.SalesPerMachine);
        options.Log = line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
        options.Progress = (done, total) =>
        {
            drive.StartTask();
            drive.MaxValue = total;
            drive.Value = done;
        };
        report = await LoadHarness.RunAsync(options, stop.Token);
        drive.StopTask();
    });

// The whole text report (every figure, and the history of any sale that broke an invariant) goes to a file; the
// console gets the figures that matter as a table and the targets in colour.
var textPath = Path.Combine(string.IsNullOrEmpty(report.Run.WorkDirectory) ? Path.GetTempPath() : report.Run.WorkDirectory, "report.txt");
await File.WriteAllTextAsync(textPath, report.ToText());
AnsiConsole.Write(FiguresTable(report));
AnsiConsole.Write(TargetsTable(report));
if (report.Passed)
{
    AnsiConsole.MarkupLine(report.ReconcilerScale is { } scale
        ? $"[green]Invariants: the {scale.DueReleased} due sales were released with nothing captured (reconciler-scale mode: no drive).[/]"
        : $"[green]Invariants: all hold for {report.Sales.Total} sales.[/]");
}
else
{
    AnsiConsole.MarkupLine($"[red]Invariants: {report.Violations.Count} violation(s):[/]");
    foreach (var violation in report.Violations)
    {
        AnsiConsole.MarkupLine($"[red]  {Markup.Escape(violation.ToString() ?? string.Empty)}[/]");
    }
}

AnsiConsole.MarkupLine($"Full report: {Markup.Escape(textPath)}");
if (options.JsonPath is { } path)
{
    await File.WriteAllTextAsync(path, report.ToJson());
    AnsiConsole.MarkupLine($"JSON summary: {Markup.Escape(Path.GetFullPath(path))}");
}

return report.Passed ? 0 : 1;

static Table FiguresTable(LoadReport report)
{
    var c = CultureInfo.InvariantCulture;
    var run = report.Run;
    var table = new Table().Title($"{run.Machines} machines x {run.SalesPerMachine} sales, {run.Instances} instance(s), faults {(run.Faults ? "on" : "off")}, seed {run.Seed}")
        .AddColumn("figure").AddColumn("measured");
    void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));
    Row("sales", $"{report.Sales.Total} ({report.Sales.Final} final); {string.Join(", ", report.Sales.ByState.Select(kv => $"{kv.Key} {kv.Value}"))}");
    Row("drive / converge / whole run", $"{run.DriveSeconds.ToString("F0", c)} s / {run.ConvergeSeconds.ToString("F1", c)} s / {run.TotalSeconds.ToString("F0", c)} s; restarts {report.Runner.Restarts}");
    Row("approval -> machine", report.ApprovalToMachine.ToString());
    if (report.ApprovalSameInstance is { } same && report.ApprovalCrossInstance is { } cross)
    {
        Row("  same instance as the webhook", same.ToString());
        Row("  another instance", cross.ToString());
    }

    Row("  AUTHORIZED webhook delivered", report.ApprovalWebhookDelivered.ToString());
    Row("  AUTHORIZED webhook dropped", report.ApprovalWebhookDropped.ToString());
    if (report.ReconcilerScale is { } scale)
    {
        Row("reconciler idle pass, no open sale", scale.IdleEmpty?.ToString() ?? scale.Why ?? "n/a");
        Row($"reconciler passes, {scale.OpenSales} open sales, first checks due", scale.FirstChecks?.ToString() ?? "n/a");
        Row($"reconciler idle pass, {scale.OpenSales} open sales, nothing due", scale.Idle?.ToString() ?? "n/a");
        Row($"reconciler passes, {scale.DueSales} due", scale.Due is { } due ? $"{due} (released {scale.DueReleased})" : "n/a");
    }

    Row("create payment", report.CreatePayment.ToString());
    Row("released after the vend deadline", report.ReleaseAfterDeadline.ToString());
    Row("webhook burst", $"{report.Webhooks.BurstCount} AUTHORIZED at {report.Webhooks.BurstHandledPerSecond.ToString("F0", c)}/s");
    Row("peak memory of an instance's worker", report.Runner.PeakWorkerMemoryBytes is { } worker ? $"{worker / (1024 * 1024)} MB" : "n/a");
    Row("peak memory of an instance's host", report.Runner.PeakHostMemoryBytes is { } host ? $"{host / (1024 * 1024)} MB" : "n/a");
    Row("peak memory of an instance, both", report.Runner.PeakMemoryBytes is { } bytes ? $"{bytes / (1024 * 1024)} MB" : "n/a");
    return table;
}

static Table TargetsTable(LoadReport report)
{
    var table = new Table().Title("Targets (goals, not assertions)").AddColumn("target").AddColumn("goal").AddColumn("measured").AddColumn("");
    foreach (var target in report.Targets)
    {
        var verdict = target.Met switch
        {
            true => "[green]met[/]",
            false => "[red]missed[/]",
            null => "[yellow]not measured[/]",
        };
        table.AddRow(Markup.Escape(target.Name), Markup.Escape(target.Target), Markup.Escape(target.Measured), verdict);
    }

    return table;
}
