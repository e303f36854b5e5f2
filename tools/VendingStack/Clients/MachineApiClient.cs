using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Vending.Stack.Clients;

/// <summary>A machine provisioned through the operator route: its id and its api key (<c>{machineId}.{secret}</c>, shown once).</summary>
public sealed record ProvisionedMachine(string MachineId, string ApiKey);

/// <summary>One line of a sale as the machine posts it. Money in minor units (øre, cents).</summary>
public sealed record SaleLine(string ProductId, string Name, int Quantity, long UnitPrice, int TaxRate = 2500);

/// <summary>
/// The machine's side of the API over HTTP with its Bearer key: the reference integration for machine developers.
/// Two ways to call: the plain methods send once and return the answer (tests assert on it); the methods taking a
/// <c>budget</c> behave as a real machine should, retrying no answer, 5xx, 429 and 499 with a short back-off until the
/// budget is spent, and always with the same body: a create is retried with the same <c>machineSaleId</c>, so a retry
/// can never make a second sale.
/// </summary>
public sealed class MachineApiClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly bool _ownsHttp;

    /// <summary>A client of its own. <paramref name="handler"/> is where a test adds a <see cref="DelegatingHandler"/> (e.g. one that records answers).</summary>
    public MachineApiClient(Uri baseUrl, ProvisionedMachine machine, HttpMessageHandler? handler = null)
        : this(new HttpClient(handler ?? new SocketsHttpHandler()) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) }, machine, ownsHttp: true)
    {
        Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", machine.ApiKey);
    }

    /// <summary>Over a shared <paramref name="http"/> (many machines, one connection pool); its base address is the app's root.</summary>
    public MachineApiClient(HttpClient http, ProvisionedMachine machine)
        : this(http, machine, ownsHttp: false)
    {
    }

    private MachineApiClient(HttpClient http, ProvisionedMachine machine, bool ownsHttp)
    {
        Http = http;
        Machine = machine;
        _ownsHttp = ownsHttp;
    }

    public ProvisionedMachine Machine { get; }

    public string MachineId => Machine.MachineId;

    /// <summary>The raw client (base address = the app's root) for requests the helpers do not cover.</summary>
    public HttpClient Http { get; }

    public static SaleLine[] Cola(long unitPrice = 2500, int quantity = 1) => [new SaleLine("cola", "Cola 0.5 l", quantity, unitPrice)];

    /// <summary>Answers that a machine retries (with the same body): no answer, 5xx, 429, 499.</summary>
    public static bool IsTransient(int status) => status is 0 or >= 500 or 429 or 499;

    // ---------------------------------------------------------------- send once

    /// <summary>POST /api/payments. <paramref name="qrFormat"/> null = the machine's provisioned format.</summary>
    public Task<ApiAnswer> CreateAsync(string machineSaleId, IEnumerable<SaleLine> lines, string currency = "NOK", string? qrFormat = null, int? qrSize = null)
    {
        object body = qrFormat is null
            ? new { machineSaleId, currency, lines }
            : new { machineSaleId, currency, lines, qr = qrSize is null ? (object)new { format = qrFormat } : new { format = qrFormat, size = qrSize } };
        return SendAsync(HttpMethod.Post, "api/payments", body);
    }

    /// <summary>Creates a sale and insists on 201.</summary>
    public async Task<ApiAnswer> CreateSaleAsync(IEnumerable<SaleLine> lines, string currency = "NOK", string? qrFormat = null, string? machineSaleId = null) =>
        (await CreateAsync(machineSaleId ?? $"s-{Guid.NewGuid():N}", lines, currency, qrFormat)).AssertStatus(HttpStatusCode.Created);

    public Task<ApiAnswer> GetAsync(string reference) => SendAsync(HttpMethod.Get, $"api/payments/{reference}", null);

    /// <summary>The long poll: answers when the sale leaves <paramref name="knownState"/> or after <paramref name="waitSeconds"/>.</summary>
    public Task<ApiAnswer> LongPollAsync(string reference, string knownState, int waitSeconds = 25) =>
        SendAsync(HttpMethod.Get, $"api/payments/{reference}?wait={waitSeconds}&state={knownState}", null);

    /// <summary>Long-polls until the sale is in <paramref name="state"/> (fails at the deadline, default 30 s, with the last answer).</summary>
    public async Task<ApiAnswer> WaitForStateAsync(string reference, string state, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        var answer = (await GetAsync(reference)).AssertStatus(HttpStatusCode.OK);
        while (answer.State != state)
        {
            var left = (int)Math.Ceiling((deadline - DateTime.UtcNow).TotalSeconds);
            if (left <= 0)
            {
                throw new TimeoutException($"Sale {reference} did not reach {state} within {limit.TotalSeconds} s; last: {answer.Text}");
            }

            answer = (await LongPollAsync(reference, answer.State, Math.Min(left, 5))).AssertStatus(HttpStatusCode.OK);
        }

        return answer;
    }

    public Task<ApiAnswer> VendAsync(string reference, string outcome, IEnumerable<(string ProductId, int Quantity)>? deliveredLines = null) =>
        SendAsync(HttpMethod.Post, $"api/payments/{reference}/vend", deliveredLines is null
            ? new { outcome }
            : new { outcome, deliveredLines = deliveredLines.Select(l => new { productId = l.ProductId, quantity = l.Quantity }).ToArray() });

    public Task<ApiAnswer> CancelAsync(string reference) => SendAsync(HttpMethod.Post, $"api/payments/{reference}/cancel", null);

    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body)
    {
        using var request = Request(method, path, body is null ? null : JsonSerializer.Serialize(body, Json));
        var clock = Stopwatch.StartNew();
        using var response = await Http.SendAsync(request);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers, clock.Elapsed);
    }

    // ---------------------------------------------------------------- as a machine in the field: retried within a budget

    public Task<ApiAnswer> CreateAsync(object body, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "api/payments", body, budget, TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>Long-poll: answers when the state is no longer <paramref name="knownState"/>, or after <paramref name="waitSeconds"/>.</summary>
    public Task<ApiAnswer> WaitAsync(string reference, string knownState, int waitSeconds, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"api/payments/{reference}?wait={waitSeconds}&state={knownState}", null, budget, TimeSpan.FromSeconds(waitSeconds + 15), cancellationToken);

    public Task<ApiAnswer> VendAsync(string reference, object report, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"api/payments/{reference}/vend", report, budget, TimeSpan.FromSeconds(30), cancellationToken);

    public Task<ApiAnswer> CancelAsync(string reference, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"api/payments/{reference}/cancel", new { }, budget, TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>Sends until a non-transient answer or the budget is spent; every attempt has its own timeout.</summary>
    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body, TimeSpan budget, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        var json = body is null ? null : JsonSerializer.Serialize(body, Json);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var last = await SendOnceAsync(method, path, json, attemptTimeout, cancellationToken);
            if (!IsTransient(last.StatusCode) || clock.Elapsed + delay > budget)
            {
                return last;
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task<ApiAnswer> SendOnceAsync(HttpMethod method, string path, string? json, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        using var request = Request(method, path, json);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(attemptTimeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await Http.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            return new ApiAnswer(response.StatusCode, text, response.Headers, clock.Elapsed);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or JsonException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ApiAnswer.NoAnswer;
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string? json)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Machine.ApiKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>One pooled client for many machines (the load harness): no proxy, no cookies, per-attempt timeouts.</summary>
    public static HttpClient CreateSharedHttpClient(Uri baseUrl) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        BaseAddress = baseUrl,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public void Dispose()
    {
        if (_ownsHttp)
        {
            Http.Dispose();
        }
    }
}
