using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Vending.Stack.Clients;

/// <summary>A machine as the operator provisions it (<c>POST /api/operator/machines</c>).</summary>
public sealed record MachineRegistration(
    string MachineId, string Name, string Location, string MerchantId = "vippsno", string Currency = "NOK", string CaptureMode = "OnDelivery", string QrFormat = "svg");

/// <summary>
/// The operator's side of the API with the function key (<c>x-functions-key</c>): provisioning machines and keeping
/// exactly one webhook registration per merchant (<c>POST /api/operator/webhooks/ensure</c>). <see cref="Http"/> is the
/// raw client (base address = the app's root, key set) for the other operator routes.
/// </summary>
public sealed class OperatorApiClient : IDisposable
{
    public const string FunctionKeyHeader = "x-functions-key";

    public OperatorApiClient(Uri baseUrl, string functionKey, HttpMessageHandler? handler = null)
    {
        Http = new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add(FunctionKeyHeader, functionKey);
    }

    public HttpClient Http { get; }

    /// <summary>Provisions a machine; insists on 201 and returns its api key (shown once).</summary>
    public async Task<ProvisionedMachine> ProvisionMachineAsync(MachineRegistration machine, CancellationToken cancellationToken = default)
    {
        using var response = await Http.PostAsJsonAsync("api/operator/machines", new
        {
            machineId = machine.MachineId,
            name = machine.Name,
            location = machine.Location,
            merchantId = machine.MerchantId,
            currency = machine.Currency,
            captureMode = machine.CaptureMode,
            qrFormat = machine.QrFormat,
        }, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Provisioning {machine.MachineId} answered {(int)response.StatusCode}: {body}");
        }

        using var json = JsonDocument.Parse(body);
        return new ProvisionedMachine(machine.MachineId, json.RootElement.GetProperty("apiKey").GetString()!);
    }

    /// <summary>Exactly one webhook registration per configured merchant for the app's public URL, its secret stored
    /// by the app (never shown); insists on 200 and returns the report (per merchant: kept or registered).</summary>
    public async Task<JsonElement> EnsureWebhooksAsync(CancellationToken cancellationToken = default)
    {
        using var response = await Http.PostAsync("api/operator/webhooks/ensure", null, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"webhooks/ensure answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public async Task<ApiAnswer> GetAsync(string path, CancellationToken cancellationToken = default)
    {
        using var response = await Http.GetAsync(path, cancellationToken);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), response.Headers);
    }

    public async Task<ApiAnswer> PostAsync(string path, object? body = null, CancellationToken cancellationToken = default)
    {
        using var response = body is null ? await Http.PostAsync(path, null, cancellationToken) : await Http.PostAsJsonAsync(path, body, cancellationToken);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), response.Headers);
    }

    public void Dispose() => Http.Dispose();
}
