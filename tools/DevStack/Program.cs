using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Vending.Stack;
using Vending.Stack.Clients;

// The whole product on one machine, as the README's run command: the stack library (tools/VendingStack) with the
// run profile, plus a demo machine and what a developer needs to start selling.
DevStackOptions options;
try
{
    options = DevStackOptions.Parse(args);
}
catch (Exception exception) when (exception is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine(exception.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
// Ctrl+C and SIGTERM end the wait below, so everything is disposed in order and Azurite (a child process) never
// outlives us. The hosted instances and simulator see the same signals; their own handlers only stop their hosts.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

var stackOptions = StackOptions.For(StackProfile.Run);
stackOptions.AzuritePort = options.AzuritePort;
stackOptions.SimulatorPort = options.SimulatorPort;
stackOptions.AppPort = options.RunnerPort;
stackOptions.Instances = options.Instances;
stackOptions.FunctionKey = options.FunctionKey;
stackOptions.PaymentExpirySeconds = options.PaymentExpirySeconds;
stackOptions.VendReportDeadlineSeconds = options.VendReportDeadlineSeconds;
// The host stands in for App Service Authentication: a local page to sign in as an operator or a viewer.
stackOptions.AppSettings["FunctionsHost:LocalSignIn"] = "true";
stackOptions.EventsPath = Path.Combine(Vending.Testing.Azurite.RepositoryRoot(), ".local", "events.jsonl");
Directory.CreateDirectory(Path.GetDirectoryName(stackOptions.EventsPath)!);
await using var stack = await VendingStack.StartAsync(stackOptions, stop.Token);

Console.WriteLine("Provisioning the demo machine ...");
using var operatorClient = stack.NewOperatorClient();
var machine = await operatorClient.ProvisionMachineAsync(new MachineRegistration(options.MachineId, "Demo machine", "Lobby, Oslo"), stop.Token);

var appUrl = stack.AppUrl.ToString().TrimEnd('/');
var simulatorUrl = stack.Simulator.BaseUrl;
var kioskUrl = $"{appUrl}/kiosk/#machine={machine.MachineId}&key={Uri.EscapeDataString(machine.ApiKey)}";
var ready = new
{
    apiBaseUrl = $"{appUrl}/api",
    runnerUrl = appUrl,
    kioskUrl,
    consoleUrl = $"{appUrl}/api/console/",
    simulatorUrl,
    machineId = machine.MachineId,
    apiKey = machine.ApiKey,
    functionKey = options.FunctionKey,
    storageConnectionString = stack.StorageConnectionString,
    instances = stack.Instances.Select(i => new { id = i.Id, url = i.BaseUrl.ToString().TrimEnd('/') }).ToArray(),
};
if (options.ReadyFile is { } readyFile)
{
    // Written whole, then renamed, so a watcher never reads half a file.
    var temporary = readyFile + ".tmp";
    await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(ready, new JsonSerializerOptions { WriteIndented = true }));
    File.Move(temporary, readyFile, overwrite: true);
}

var instances = stack.Instances.Count == 1
    ? ""
    : $"\n  Instances (round robin behind the API): {string.Join(", ", stack.Instances.Select(i => $"{i.Id} {i.BaseUrl}"))}\n";
const string exampleSale = """{"machineSaleId":"sale-0001","currency":"NOK","lines":[{"productId":"cola","name":"Cola 0.5 l","quantity":1,"unitPrice":3500,"taxRate":2500}],"qr":{"format":"url"}}""";
Console.WriteLine($$"""

    Ready. Everything runs on loopback; Ctrl+C stops it all.

      Kiosk (the demo machine's screen):  {{kioskUrl}}
      Operator console (local sign-in):   {{appUrl}}/api/console/
      Machine API:                        {{appUrl}}/api   (machine {{machine.MachineId}}, key below)
      API reference (OpenAPI, Scalar):    {{appUrl}}/api/docs
      Vipps MobilePay simulator:          {{simulatorUrl}}
      Payment events (local sink):        .local/events.jsonl
      Operator key (x-functions-key):     {{options.FunctionKey}}
    {{instances}}
    Sell something with curl:

      KEY='{{machine.ApiKey}}'
      curl -s -X POST {{appUrl}}/api/payments -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d '{{exampleSale}}'
      # approve as the customer (or open the QR's page in a browser):
      curl -s -X POST {{simulatorUrl}}/_sim/payments/REFERENCE/approve
      curl -s "{{appUrl}}/api/payments/REFERENCE?wait=20&state=Created" -H "Authorization: Bearer $KEY"
      curl -s -X POST {{appUrl}}/api/payments/REFERENCE/vend -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"outcome":"delivered"}'
      curl -s {{simulatorUrl}}/_sim/ledger/REFERENCE

    """);

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Stopping ...");
}

return 0;

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

internal sealed record DevStackOptions(
    int SimulatorPort,
    int RunnerPort,
    int AzuritePort,
    int Instances,
    string? ReadyFile,
    string MachineId,
    string FunctionKey,
    int? PaymentExpirySeconds,
    int? VendReportDeadlineSeconds)
{
    private const string Usage = "Usage: --instances N --simulator-port N --runner-port N --azurite-port N --ready-file PATH --machine-id ID --function-key KEY --payment-expiry-seconds N --vend-deadline-seconds N";

    public static DevStackOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'. {Usage}");
            }

            values[args[i][2..]] = args[++i];
        }

        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        int? OptionalInt(string name) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        var instances = Int("instances", 1);
        if (instances is < 1 or > 16)
        {
            throw new ArgumentException($"--instances must be 1 to 16. {Usage}");
        }

        return new DevStackOptions(
            Int("simulator-port", 7071),
            Int("runner-port", 7072),
            Int("azurite-port", 10000),
            instances,
            values.GetValueOrDefault("ready-file"),
            values.GetValueOrDefault("machine-id") ?? "demo-01",
            values.GetValueOrDefault("function-key") ?? "local-operator-key",
            OptionalInt("payment-expiry-seconds"),
            OptionalInt("vend-deadline-seconds"));
    }
}
