using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using LocalRunner;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Vending.Testing;
using Vending.Vipps;
using Vending.Vipps.Webhooks;
using VippsSimulator.Hosting;

// The whole product on one machine, as the README's run command: Azurite, the Vipps simulator, the local runner
// (the Function App's own functions over real HTTP), webhook registrations, and a demo machine.
// Every piece talks to the others over loopback HTTP exactly as in Azure; only the hosting is local.
var options = DevStackOptions.Parse(args);
var root = Azurite.RepositoryRoot();
using var stop = new CancellationTokenSource();
// Ctrl+C and SIGTERM end the wait below, so everything is disposed in order and Azurite (a child process) never
// outlives us. The hosted runner and simulator see the same signals; their own handlers only stop their hosts.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

Console.WriteLine("Starting Azurite (in memory) ...");
await using var azurite = await Azurite.StartAsync(options.AzuritePort);

Console.WriteLine("Starting the Vipps MobilePay simulator ...");
var simulatorSettings = new Dictionary<string, string?>
{
    // Our local runner listens on plain http on loopback; real Vipps demands https.
    ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
};
if (options.PaymentExpirySeconds is { } expiry)
{
    simulatorSettings["Simulator:PaymentExpirySeconds"] = expiry.ToString();
}

await using var simulator = await SimulatorApp.StartAsync(options.SimulatorPort, simulatorSettings);

var runnerPort = options.RunnerPort == 0 ? Azurite.FreePort() : options.RunnerPort;
var runnerUrl = $"http://127.0.0.1:{runnerPort}";
var settings = LocalSettingsSample(root);
settings["VendingStorage"] = azurite.ConnectionString;
settings["AzureWebJobsStorage"] = azurite.ConnectionString;
settings["Vipps:BaseUrl"] = simulator.BaseUrl;
settings["Vending:PublicBaseUrl"] = runnerUrl;
settings["Events:LocalSinkPath"] = Path.Combine(root, ".local", "events.jsonl");
settings["LocalRunner:FunctionKey"] = options.FunctionKey;
if (options.VendReportDeadlineSeconds is { } deadline)
{
    settings["Vending:VendReportDeadlineSeconds"] = deadline.ToString();
}

Console.WriteLine("Registering the webhook of each merchant with the simulator ...");
var webhookUrl = $"{runnerUrl}/api/webhooks/vipps";
foreach (var (merchant, secret) in await RegisterWebhooksAsync(settings, webhookUrl, stop.Token))
{
    settings[$"Vipps:Merchants:{merchant}:WebhookSecret"] = secret;
}

Console.WriteLine("Starting the local runner (the Function App's HTTP, queue and timer functions) ...");
var runnerOptions = new LocalRunnerStartOptions { Urls = runnerUrl, EnvironmentName = "Development" };
foreach (var (key, value) in settings)
{
    runnerOptions.Settings[key] = value;
}

// The runner reads only what we hand it: a developer's local.settings.json must not point it elsewhere.
runnerOptions.Settings["LocalRunner:LocalSettingsPath"] = Path.Combine(root, "local.settings.sample.json");
await using var runner = await LocalRunnerApp.StartAsync(runnerOptions, stop.Token);

Console.WriteLine("Provisioning the demo machine ...");
var machine = await ProvisionDemoMachineAsync(runnerUrl, options, stop.Token);

var kioskUrl = $"{runnerUrl}/kiosk/#machine={machine.MachineId}&key={Uri.EscapeDataString(machine.ApiKey)}";
var ready = new
{
    apiBaseUrl = $"{runnerUrl}/api",
    runnerUrl,
    kioskUrl,
    simulatorUrl = simulator.BaseUrl,
    machineId = machine.MachineId,
    apiKey = machine.ApiKey,
    functionKey = options.FunctionKey,
    storageConnectionString = azurite.ConnectionString,
};
if (options.ReadyFile is { } readyFile)
{
    // Written whole, then renamed, so a watcher never reads half a file.
    var temporary = readyFile + ".tmp";
    await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(ready, new JsonSerializerOptions { WriteIndented = true }));
    File.Move(temporary, readyFile, overwrite: true);
}

const string exampleSale = """{"machineSaleId":"sale-0001","currency":"NOK","lines":[{"productId":"cola","name":"Cola 0.5 l","quantity":1,"unitPrice":3500,"taxRate":2500}],"qr":{"format":"url"}}""";
Console.WriteLine($$"""

    Ready. Everything runs on loopback; Ctrl+C stops it all.

      Kiosk (the demo machine's screen):  {{kioskUrl}}
      Machine API:                        {{runnerUrl}}/api   (machine {{machine.MachineId}}, key below)
      Vipps MobilePay simulator:          {{simulator.BaseUrl}}
      Payment events (local sink):        .local/events.jsonl
      Operator key (x-functions-key):     {{options.FunctionKey}}

    Sell something with curl:

      KEY='{{machine.ApiKey}}'
      curl -s -X POST {{runnerUrl}}/api/payments -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
        -d '{{exampleSale}}'
      # approve as the customer (or open the QR's page in a browser):
      curl -s -X POST {{simulator.BaseUrl}}/_sim/payments/REFERENCE/approve
      curl -s "{{runnerUrl}}/api/payments/REFERENCE?wait=20&state=Created" -H "Authorization: Bearer $KEY"
      curl -s -X POST {{runnerUrl}}/api/payments/REFERENCE/vend -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"outcome":"delivered"}'
      curl -s {{simulator.BaseUrl}}/_sim/ledger/REFERENCE

    """);

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Stopping ...");
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static Dictionary<string, string?> LocalSettingsSample(string root)
{
    using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "local.settings.sample.json")));
    return document.RootElement.GetProperty("Values").EnumerateObject()
        .ToDictionary(p => p.Name.Replace("__", ":", StringComparison.Ordinal), p => (string?)p.Value.GetString(), StringComparer.OrdinalIgnoreCase);
}

// Exactly one registration per merchant for our URL: strays at our URL are deleted first, since the simulator
// (like Vipps) shows a registration's secret only once.
static async Task<List<(string Merchant, string Secret)>> RegisterWebhooksAsync(Dictionary<string, string?> settings, string url, CancellationToken cancellationToken)
{
    var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
    var services = new ServiceCollection().AddLogging().AddVippsClient(configuration);
    await using var provider = services.BuildServiceProvider();
    var webhooks = provider.GetRequiredService<IVippsWebhooksClient>();
    var vipps = configuration.GetSection(VippsOptions.SectionName).Get<VippsOptions>()!;
    var secrets = new List<(string, string)>();
    foreach (var merchant in vipps.Merchants.Keys)
    {
        foreach (var stray in (await webhooks.ListAsync(merchant, cancellationToken)).Where(w => w.Url == url))
        {
            await webhooks.DeleteAsync(merchant, stray.Id, cancellationToken);
        }

        var registration = await webhooks.RegisterAsync(merchant, url, WebhookEventTypes.All, cancellationToken);
        secrets.Add((merchant, registration.Secret));
    }

    return secrets;
}

static async Task<(string MachineId, string ApiKey)> ProvisionDemoMachineAsync(string runnerUrl, DevStackOptions options, CancellationToken cancellationToken)
{
    using var http = new HttpClient { BaseAddress = new Uri(runnerUrl), Timeout = TimeSpan.FromSeconds(30) };
    http.DefaultRequestHeaders.Add("x-functions-key", options.FunctionKey);
    using var response = await http.PostAsJsonAsync("/api/operator/machines", new
    {
        machineId = options.MachineId,
        name = "Demo machine",
        location = "Lobby, Oslo",
        merchantId = "vippsno",
        currency = "NOK",
        captureMode = "OnDelivery",
        qrFormat = "svg",
    }, cancellationToken);
    var body = await response.Content.ReadAsStringAsync(cancellationToken);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"Provisioning the demo machine answered {(int)response.StatusCode}: {body}");
    }

    using var json = JsonDocument.Parse(body);
    return (options.MachineId, json.RootElement.GetProperty("apiKey").GetString()!);
}

internal sealed record DevStackOptions(
    int SimulatorPort,
    int RunnerPort,
    int AzuritePort,
    string? ReadyFile,
    string MachineId,
    string FunctionKey,
    int? PaymentExpirySeconds,
    int? VendReportDeadlineSeconds)
{
    public static DevStackOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"Unexpected argument '{args[i]}'. Usage: --simulator-port N --runner-port N --azurite-port N --ready-file PATH --machine-id ID --function-key KEY --payment-expiry-seconds N --vend-deadline-seconds N");
            }

            values[args[i][2..]] = args[++i];
        }

        int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        int? OptionalInt(string name) => values.TryGetValue(name, out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : null;
        return new DevStackOptions(
            Int("simulator-port", 7071),
            Int("runner-port", 7072),
            Int("azurite-port", 10000),
            values.GetValueOrDefault("ready-file"),
            values.GetValueOrDefault("machine-id") ?? "demo-01",
            values.GetValueOrDefault("function-key") ?? "local-operator-key",
            OptionalInt("payment-expiry-seconds"),
            OptionalInt("vend-deadline-seconds"));
    }
}
