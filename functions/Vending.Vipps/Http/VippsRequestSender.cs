using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly.Timeout;
using Vending.Vipps.Authentication;

namespace Vending.Vipps.Http;

/// <summary>One logical Vipps call: what to send, and the idempotency key that every attempt of it carries.</summary>
internal sealed record VippsRequest(HttpMethod Method, string Path, string Operation, object? Body = null, string? IdempotencyKey = null);

/// <summary>
/// Sends a <see cref="VippsRequest"/> for one merchant: the common headers, the cached bearer token, one more try
/// with a fresh token when Vipps answers 401, and every failure as a <see cref="VippsApiException"/>.
/// Transient failures were already retried below, by the resilience handler of the HttpClient.
/// </summary>
internal sealed class VippsRequestSender(HttpClient httpClient, IVippsAccessTokenProvider tokens, VippsOptions options, ILogger logger)
{
    public const int MaxIdempotencyKeyLength = 50;

    public Task<T> SendAsync<T>(string merchant, VippsRequest request, CancellationToken cancellationToken) =>
        SendCoreAsync(merchant, request, ReadJsonAsync<T>, cancellationToken);

    public Task SendAsync(string merchant, VippsRequest request, CancellationToken cancellationToken) =>
        SendCoreAsync(merchant, request, static (_, _) => Task.FromResult(true), cancellationToken);

    public static void AddSystemHeaders(HttpRequestMessage message, VippsOptions options)
    {
        message.Headers.Add(VippsHeaders.SystemName, options.SystemName);
        message.Headers.Add(VippsHeaders.SystemVersion, options.SystemVersion);
        message.Headers.Add(VippsHeaders.SystemPluginName, options.PluginName);
        message.Headers.Add(VippsHeaders.SystemPluginVersion, options.PluginVersion);
    }

    /// <summary>True for failures where Vipps gave no answer: timeouts and connection errors, not the caller's own cancellation.</summary>
    public static bool IsNoAnswer(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        TimeoutRejectedException or HttpRequestException => true,
        // HttpClient's own timeout (a backstop above the pipeline's) surfaces as a cancellation the caller did not ask for.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    public static VippsApiException NoAnswer(Exception exception) => exception is HttpRequestException
        ? new VippsApiException(null, null, "Vipps could not be reached.", exception)
        : new VippsApiException(null, null, "Vipps did not answer in time.", exception);

    private async Task<T> SendCoreAsync<T>(
        string merchant,
        VippsRequest request,
        Func<HttpResponseMessage, CancellationToken, Task<T>> readSuccess,
        CancellationToken cancellationToken)
    {
        var merchantOptions = VippsMerchants.Get(options, merchant);
        if (request.IdempotencyKey is { } key && (key.Length is 0 or > MaxIdempotencyKeyLength))
        {
            throw new ArgumentException($"An idempotency key has 1 to {MaxIdempotencyKeyLength} characters.", nameof(request));
        }

        var body = request.Body is null ? null : JsonSerializer.SerializeToUtf8Bytes(request.Body, request.Body.GetType(), VippsJson.Options);

        // A 401 means the cached token was revoked or expired early: drop it and try once more with a fresh one.
        for (var attempt = 1; ; attempt++)
        {
            var token = await tokens.GetTokenAsync(merchant, cancellationToken).ConfigureAwait(false);
            using var message = CreateMessage(request, merchantOptions, token, body);

            HttpResponseMessage response;
            try
            {
                response = await httpClient.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (IsNoAnswer(exception, cancellationToken))
            {
                logger.LogWarning(exception, "Vipps {Operation} for merchant {Merchant} got no answer", request.Operation, merchant);
                throw NoAnswer(exception);
            }

            using (response)
            {
                logger.LogDebug("Vipps {Operation} for merchant {Merchant} answered {StatusCode}", request.Operation, merchant, (int)response.StatusCode);

                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 1)
                {
                    logger.LogWarning("Vipps rejected the access token of merchant {Merchant} on {Operation}; retrying once with a new token", merchant, request.Operation);
                    tokens.Invalidate(merchant, token);
                    continue;
                }

                if (!response.IsSuccessStatusCode)
                {
                    var error = await VippsErrors.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
                    logger.LogWarning(
                        "Vipps {Operation} for merchant {Merchant} failed: {StatusCode} {ErrorCode} {Title} (Vipps traceId {TraceId})",
                        request.Operation, merchant, (int)response.StatusCode, error.ErrorCode, error.Title, error.TraceId);
                    throw error;
                }

                return await readSuccess(response, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private HttpRequestMessage CreateMessage(VippsRequest request, VippsMerchantOptions merchantOptions, string token, byte[]? body)
    {
        var message = new HttpRequestMessage(request.Method, request.Path);
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        message.Headers.Add(VippsHeaders.SubscriptionKey, merchantOptions.SubscriptionKey);
        message.Headers.Add(VippsHeaders.MerchantSerialNumber, merchantOptions.MerchantSerialNumber);
        AddSystemHeaders(message, options);
        message.Headers.Accept.ParseAdd("application/json");
        message.Headers.Accept.ParseAdd("application/problem+json");
        if (request.IdempotencyKey is not null)
        {
            message.Headers.Add(VippsHeaders.IdempotencyKey, request.IdempotencyKey);
        }

        if (body is not null)
        {
            // Bytes, not a stream: the retry pipeline re-sends this content, so it must be readable more than once.
            message.Content = new ByteArrayContent(body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }

        return message;
    }

    private static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonSerializer.DeserializeAsync<T>(stream, VippsJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new VippsApiException(response.StatusCode, null, $"Vipps answered {(int)response.StatusCode} with an empty body.");
        }
        catch (JsonException exception)
        {
            throw new VippsApiException(response.StatusCode, null, $"Vipps answered {(int)response.StatusCode} with an unreadable body.", exception);
        }
    }
}
