using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VippsSimulator.Hosting;

namespace VippsSimulator.Tests.Support;

/// <summary>One simulator on a free loopback port plus an HTTP client that talks to it like a merchant would.</summary>
public sealed class SimulatorHarness : IAsyncLifetime
{
    /// <summary>Fast, permissive settings for most tests: compressed webhook retries, high rate limits, http loopback webhooks.</summary>
    public static Dictionary<string, string?> FastSettings() => new()
    {
        ["Simulator:AllowHttpLoopbackWebhooks"] = "true",
        ["Simulator:Webhooks:RetryDelaysSeconds"] = "0.05,0.1",
        ["Simulator:Webhooks:TimeoutSeconds"] = "2",
        ["Simulator:RateLimits:AdjustmentsPerMinute"] = "1000",
        ["Simulator:RateLimits:QueriesPerMinute"] = "10000",
    };

    private readonly Dictionary<string, string?> _settings;
    private readonly TimeProvider? _clock;

    public SimulatorHarness() : this(FastSettings(), null) { }

    private SimulatorHarness(Dictionary<string, string?> settings, TimeProvider? clock)
    {
        _settings = settings;
        _clock = clock;
    }

    /// <summary>A harness with exactly these settings over the defaults (xunit fixtures need the one public constructor above).</summary>
    public static SimulatorHarness With(Dictionary<string, string?> settings, TimeProvider? clock = null) => new(settings, clock);

    public RunningSimulator Simulator { get; private set; } = null!;
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };
    public string BaseUrl => Simulator.BaseUrl;

    public async Task InitializeAsync() => Simulator = await SimulatorApp.StartAsync(settings: _settings, clock: _clock);

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Simulator.DisposeAsync();
    }

    public static string NewReference(string prefix = "test") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(64, prefix.Length + 33)];

    public async Task<HttpResponseMessage> RequestToken(string clientId, string clientSecret, string subscriptionKey, string? msn = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{BaseUrl}/accesstoken/get");
        request.Headers.Add("client_id", clientId);
        request.Headers.Add("client_secret", clientSecret);
        request.Headers.Add("Ocp-Apim-Subscription-Key", subscriptionKey);
        if (msn is not null) request.Headers.Add("Merchant-Serial-Number", msn);
        return await Http.SendAsync(request);
    }

    public async Task<string> Token(bool mobilePay = false)
    {
        using var response = mobilePay
            ? await RequestToken(TestMerchants.MobilePayDk.ClientId, TestMerchants.MobilePayDk.ClientSecret, TestMerchants.MobilePayDk.SubscriptionKey)
            : await RequestToken(TestMerchants.VippsNo.ClientId, TestMerchants.VippsNo.ClientSecret, TestMerchants.VippsNo.SubscriptionKey);
        response.EnsureSuccessStatusCode();
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }

    /// <summary>A merchant call with token, subscription key and MSN of the chosen merchant.</summary>
    public async Task<Reply> Call(HttpMethod method, string path, object? body = null, string? idempotencyKey = null, bool mobilePay = false,
        string? token = null, Action<HttpRequestHeaders>? headers = null)
    {
        using var request = new HttpRequestMessage(method, $"{BaseUrl}{path}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token ?? await Token(mobilePay));
        request.Headers.Add("Ocp-Apim-Subscription-Key", mobilePay ? TestMerchants.MobilePayDk.SubscriptionKey : TestMerchants.VippsNo.SubscriptionKey);
        request.Headers.Add("Merchant-Serial-Number", mobilePay ? TestMerchants.MobilePayDk.Msn : TestMerchants.VippsNo.Msn);
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey);
        headers?.Invoke(request.Headers);
        if (body is not null)
            request.Content = new StringContent(body as string ?? JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        using var response = await Http.SendAsync(request);
        return new Reply((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(),
            response.Headers.RetryAfter?.Delta);
    }

    public static JsonObject QrPayment(string reference, long value = 2500, string currency = "NOK", string? format = null) => new()
    {
        ["amount"] = new JsonObject { ["currency"] = currency, ["value"] = value },
        ["paymentMethod"] = new JsonObject { ["type"] = "WALLET" },
        ["reference"] = reference,
        ["userFlow"] = "QR",
        ["customerInteraction"] = "CUSTOMER_PRESENT",
        ["paymentDescription"] = "Cola 0.5 l",
        ["qrFormat"] = format is null ? null : new JsonObject { ["format"] = format },
        ["receipt"] = new JsonObject
        {
            ["orderLines"] = new JsonArray(new JsonObject
            {
                ["name"] = "Cola 0.5 l", ["id"] = "cola-05", ["totalAmount"] = value, ["totalAmountExcludingTax"] = value * 4 / 5,
                ["totalTaxAmount"] = value - value * 4 / 5, ["taxRate"] = 2500,
            }),
            ["bottomLine"] = new JsonObject { ["currency"] = currency },
        },
    };

    public async Task<Reply> Create(JsonObject body, string? key = null, bool mobilePay = false) =>
        await Call(HttpMethod.Post, "/epayment/v1/payments", body.ToJsonString(), key ?? Guid.NewGuid().ToString(), mobilePay);

    /// <summary>Creates a NOK QR payment and lets the customer approve it.</summary>
    public async Task<string> AuthorizedPayment(long value = 2500)
    {
        var reference = NewReference();
        (await Create(QrPayment(reference, value))).AssertStatus(201);
        Assert.Null(Simulator.Approve(reference));
        return reference;
    }

    public Task<Reply> Capture(string reference, long value, string? key = null, string currency = "NOK") =>
        Call(HttpMethod.Post, $"/epayment/v1/payments/{reference}/capture", Modification(value, currency), key ?? Guid.NewGuid().ToString());

    public Task<Reply> Refund(string reference, long value, string? key = null) =>
        Call(HttpMethod.Post, $"/epayment/v1/payments/{reference}/refund", Modification(value, "NOK"), key ?? Guid.NewGuid().ToString());

    public Task<Reply> Cancel(string reference, bool? transactionOnly = null, string? key = null) =>
        Call(HttpMethod.Post, $"/epayment/v1/payments/{reference}/cancel",
            transactionOnly is null ? null : new { cancelTransactionOnly = transactionOnly }, key);

    public Task<Reply> Get(string reference) => Call(HttpMethod.Get, $"/epayment/v1/payments/{reference}");

    public static object Modification(long value, string currency) => new { modificationAmount = new { currency, value } };
}

/// <summary>A finished HTTP exchange: status, media type and body text.</summary>
public sealed record Reply(int Status, string? MediaType, string Body, TimeSpan? RetryAfter = null)
{
    public JsonNode Json => JsonNode.Parse(Body)!;

    public Reply AssertStatus(int expected)
    {
        Assert.True(Status == expected, $"Expected {expected}, got {Status}: {Body}");
        return this;
    }

    /// <summary>The Vipps error code in extraDetails (name ErrorCode).</summary>
    public string? ErrorCode => Json["extraDetails"]?.AsArray().FirstOrDefault(d => d!["name"]!.GetValue<string>() == "ErrorCode")?["reason"]!.GetValue<string>();

    public void AssertProblem(int status, string? code)
    {
        AssertStatus(status);
        Assert.Equal("application/problem+json", MediaType);
        Assert.Equal(code, ErrorCode);
    }
}
