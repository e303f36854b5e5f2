using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace FunctionsHost.Tests;

/// <summary>Whole sales through the real worker: HTTP through its ASP.NET Core integration, the capture command through
/// the queue listener, the release through the reconciler's timer; and a worker killed mid-sale is replaced.</summary>
public sealed class SaleThroughWorkerTests
{
    // The product's minimum: short enough that the reconciler's release shows within the test, long enough that a vend right after
    // authorization is never late.
    private const int VendDeadlineSeconds = 10;

    [Fact]
    public async Task Sale_is_created_approved_vended_and_captured_and_an_unvended_one_is_released_by_the_reconciler()
    {
        await using var stack = await HostStack.StartAsync(s => s["Vending:VendReportDeadlineSeconds"] = VendDeadlineSeconds.ToString());
        var apiKey = await stack.ProvisionMachineAsync($"host-{Guid.NewGuid():N}"[..20]);
        using var machine = stack.Client(bearer: apiKey);

        var reference = await CreateSaleAsync(machine, 2500);
        var poll = GetAsync(machine, $"api/payments/{reference}?wait=25&state=Created");
        Assert.Null(stack.Simulator.Approve(reference));
        Assert.Equal("Authorized", (await poll).GetProperty("state").GetString());

        using (var vend = await machine.PostAsJsonAsync($"api/payments/{reference}/vend", new { outcome = "delivered" }))
        {
            Assert.Equal(HttpStatusCode.OK, vend.StatusCode);
        }

        var captured = await WaitForStateAsync(machine, reference, "Captured");
        Assert.Equal(2500, captured.GetProperty("capturedAmount").GetInt64());
        var ledger = stack.Simulator.Ledger.Find(reference)!;
        Assert.Equal((2500L, 2500L, 0L), (ledger.Authorized, ledger.Captured, ledger.Cancelled));

        // Approved, never vended: only the reconciler (a timer function in the worker) releases it.
        var unvended = await CreateSaleAsync(machine, 3000);
        Assert.Null(stack.Simulator.Approve(unvended));
        await WaitForStateAsync(machine, unvended, "Authorized");
        var released = await WaitForStateAsync(machine, unvended, "Cancelled", TimeSpan.FromSeconds(60));
        Assert.Equal(3000, released.GetProperty("cancelledAmount").GetInt64());
        Assert.Equal((3000L, 0L, 3000L), (stack.Simulator.Ledger.Find(unvended)!.Authorized, stack.Simulator.Ledger.Find(unvended)!.Captured, stack.Simulator.Ledger.Find(unvended)!.Cancelled));

        // Neither the host nor the worker (whose logs travel as RpcLog) wrote a secret: function key, webhook secrets, api key.
        var secrets = stack.StartOptions.Settings.Where(s => s.Key.EndsWith(":WebhookSecret", StringComparison.OrdinalIgnoreCase) || s.Key.EndsWith(":FunctionKey", StringComparison.OrdinalIgnoreCase))
            .Select(s => s.Value!).Append(apiKey[(apiKey.IndexOf('.') + 1)..]).ToList();
        Assert.Equal(4, secrets.Count(s => s.Length >= 8)); // the key, two merchants' webhook secrets, the api key
        Assert.DoesNotContain(stack.Logs, line => secrets.Any(secret => line.Contains(secret, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Worker_killed_mid_sale_is_restarted_and_the_sale_completes()
    {
        await using var stack = await HostStack.StartAsync();
        var apiKey = await stack.ProvisionMachineAsync($"kill-{Guid.NewGuid():N}"[..20]);
        using var machine = stack.Client(bearer: apiKey);

        var reference = await CreateSaleAsync(machine, 4000);
        Assert.Null(stack.Simulator.Approve(reference));
        await WaitForStateAsync(machine, reference, "Authorized");

        var first = stack.Host.WorkerProcessId!.Value;
        using (var worker = Process.GetProcessById(first))
        {
            worker.Kill(entireProcessTree: true);
            await worker.WaitForExitAsync();
        }

        // The next call waits for the replacement worker instead of failing.
        using (var vend = await machine.PostAsJsonAsync($"api/payments/{reference}/vend", new { outcome = "delivered" }))
        {
            Assert.Equal(HttpStatusCode.OK, vend.StatusCode);
        }

        Assert.Equal(1, stack.Host.WorkerRestarts);
        Assert.NotEqual(first, stack.Host.WorkerProcessId);
        var captured = await WaitForStateAsync(machine, reference, "Captured");
        Assert.Equal(4000, captured.GetProperty("capturedAmount").GetInt64());
        Assert.Equal(4000L, stack.Simulator.Ledger.Find(reference)!.Captured);
        Assert.Contains(stack.Logs, line => line.Contains($"Worker process {first} exited", StringComparison.Ordinal));
    }

    private static async Task<string> CreateSaleAsync(HttpClient machine, long unitPrice)
    {
        using var created = await machine.PostAsJsonAsync("api/payments", new
        {
            machineSaleId = $"s-{Guid.NewGuid():N}",
            currency = "NOK",
            lines = new[] { new { productId = "cola", name = "Cola 0.5 l", quantity = 1, unitPrice, taxRate = 2500 } },
        });
        var body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"Create answered {(int)created.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("reference").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(HttpClient machine, string path)
    {
        using var response = await machine.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForStateAsync(HttpClient machine, string reference, string state, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        var sale = await GetAsync(machine, $"api/payments/{reference}");
        while (sale.GetProperty("state").GetString() != state)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Sale {reference} did not reach {state}; last: {sale}");
            }

            sale = await GetAsync(machine, $"api/payments/{reference}?wait=5&state={sale.GetProperty("state").GetString()}");
        }

        return sale;
    }
}
