using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LoadTest;

/// <summary>An answer of our API: status and the JSON body (a sale view or a problem), or no answer at all.</summary>
public sealed record ApiAnswer(int Status, JsonElement? Body, TimeSpan Elapsed)
{
    public static readonly ApiAnswer NoAnswer = new(0, null, TimeSpan.Zero);

    public bool Ok => Status is >= 200 and < 300;

    public string? State => Str("state");

    public string? Code => Str("code");

    public string? Str(string name) =>
        Body is { ValueKind: JsonValueKind.Object } body && body.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;
}

/// <summary>
/// One machine's side of the public HTTP API, the way a real machine would use it: every call retried on no answer,
/// 5xx, 429 and 499 (the runner was killed or stopped) with a short backoff, until a time budget runs out. A create is
/// retried with the same machine sale id, so a retry can never make a second sale.
/// </summary>
public sealed class MachineClient(HttpClient http, string apiBaseUrl, string machineId, string apiKey)
{
    public string MachineId { get; } = machineId;

    public Task<ApiAnswer> CreateAsync(object body, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, "payments", body, budget, TimeSpan.FromSeconds(30), cancellationToken);

    /// <summary>Long-poll: answers when the state is no longer <paramref name="knownState"/>, or after <paramref name="waitSeconds"/>.</summary>
    public Task<ApiAnswer> WaitAsync(string reference, string knownState, int waitSeconds, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, $"payments/{reference}?wait={waitSeconds}&state={knownState}", null, budget, TimeSpan.FromSeconds(waitSeconds + 15), cancellationToken);

    public Task<ApiAnswer> VendAsync(string reference, object report, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"payments/{reference}/vend", report, budget, TimeSpan.FromSeconds(30), cancellationToken);

    public Task<ApiAnswer> CancelAsync(string reference, TimeSpan budget, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"payments/{reference}/cancel", new { }, budget, TimeSpan.FromSeconds(30), cancellationToken);

    public static bool IsTransient(int status) => status is 0 or >= 500 or 429 or 499;

    private async Task<ApiAnswer> SendAsync(HttpMethod method, string path, object? body, TimeSpan budget, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(100);
        var last = ApiAnswer.NoAnswer;
        var json = body is null ? null : JsonSerializer.Serialize(body);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = await SendOnceAsync(method, path, json, attemptTimeout, cancellationToken);
            if (!IsTransient(last.Status) || clock.Elapsed + delay > budget)
            {
                return last;
            }

            await Task.Delay(delay, cancellationToken);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
        }
    }

    private async Task<ApiAnswer> SendOnceAsync(HttpMethod method, string path, string? json, TimeSpan attemptTimeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri($"{apiBaseUrl}/{path}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(attemptTimeout);
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            JsonElement? parsed = null;
            if (text.Length > 0 && text[0] == '{')
            {
                using var document = JsonDocument.Parse(text);
                parsed = document.RootElement.Clone();
            }

            return new ApiAnswer((int)response.StatusCode, parsed, clock.Elapsed);
        }
        catch (Exception exception) when (exception is HttpRequestException or IOException or JsonException
            || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return ApiAnswer.NoAnswer;
        }
    }

    public static HttpClient CreateHttpClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(20),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
}
