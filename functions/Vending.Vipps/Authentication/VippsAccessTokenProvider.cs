using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Vipps.Http;

namespace Vending.Vipps.Authentication;

internal interface IVippsAccessTokenProvider
{
    /// <summary>A valid access token of the merchant, from the cache when it is not about to expire.</summary>
    ValueTask<string> GetTokenAsync(string merchant, CancellationToken cancellationToken);

    /// <summary>Forgets <paramref name="rejectedToken"/> (Vipps answered 401), unless a newer token has replaced it already.</summary>
    void Invalidate(string merchant, string rejectedToken);
}

/// <summary>
/// <c>POST /accesstoken/get</c> per merchant, cached until shortly before <c>expires_in</c>. One refresh at a time
/// per merchant: concurrent callers wait for the refresh in flight instead of each asking Vipps for a token.
/// A refresh that fails is backed off (1 s, 2 s, 4 s, ... up to <see cref="VippsOptions.TokenRefreshBackoffMaxSeconds"/>):
/// until the next refresh is due, callers get the cached token while it has not expired yet (the refresh runs early,
/// so there is usually time), and otherwise the last failure at once, so a Vipps outage or a refused key is not asked
/// again by every waiter in turn.
/// </summary>
internal sealed class VippsAccessTokenProvider(
    IHttpClientFactory httpClientFactory,
    IOptions<VippsOptions> options,
    TimeProvider timeProvider,
    ILogger<VippsAccessTokenProvider> logger) : IVippsAccessTokenProvider
{
    private static readonly TimeSpan MaxRefreshMargin = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, MerchantTokenCache> caches = new(StringComparer.Ordinal);

    public async ValueTask<string> GetTokenAsync(string merchant, CancellationToken cancellationToken)
    {
        var merchantOptions = VippsMerchants.Get(options.Value, merchant);
        var cache = caches.GetOrAdd(merchant, _ => new MerchantTokenCache());

        if (cache.Current is { } cached && cached.IsFresh(timeProvider.GetUtcNow()))
        {
            return cached.Value;
        }

        if (WhileBackingOff(merchant, cache) is { } early)
        {
            return early;
        }

        await cache.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have refreshed, or failed to, while this one waited for the gate.
            if (cache.Current is { } refreshed && refreshed.IsFresh(timeProvider.GetUtcNow()))
            {
                return refreshed.Value;
            }

            if (WhileBackingOff(merchant, cache) is { } meanwhile)
            {
                return meanwhile;
            }

            CachedToken token;
            try
            {
                token = await FetchAsync(merchant, merchantOptions, cancellationToken).ConfigureAwait(false);
            }
            catch (VippsApiException failure)
            {
                var failures = ++cache.ConsecutiveFailures;
                var delay = BackoffAfter(failures);
                cache.Failure = new RefreshFailure(failure, timeProvider.GetUtcNow() + delay);
                var now = timeProvider.GetUtcNow();
                if (cache.Current is { } stillValid && stillValid.IsValid(now))
                {
                    logger.LogWarning(
                        "Refreshing the Vipps access token of merchant {Merchant} failed ({Failures} in a row, traceId {TraceId}); using the cached token, valid until {ExpiresAt}, and trying again in {Delay}",
                        merchant, failures, failure.TraceId, stillValid.ExpiresAt, delay);
                    return stillValid.Value;
                }

                logger.LogWarning("Refreshing the Vipps access token of merchant {Merchant} failed ({Failures} in a row); next attempt in {Delay}",
                    merchant, failures, delay);
                throw;
            }

            cache.ConsecutiveFailures = 0;
            cache.Failure = null;
            cache.Current = token;
            return token.Value;
        }
        finally
        {
            cache.Gate.Release();
        }
    }

    /// <summary>
    /// While a failed refresh is backing off: the cached token if it is still valid, else the failure again (without
    /// asking Vipps). Null when no back-off is running and the caller may refresh.
    /// </summary>
    private string? WhileBackingOff(string merchant, MerchantTokenCache cache)
    {
        var now = timeProvider.GetUtcNow();
        if (cache.Failure is not { } failure || now >= failure.RetryAt)
        {
            return null;
        }

        if (cache.Current is { } cached && cached.IsValid(now))
        {
            return cached.Value;
        }

        var last = failure.Error;
        throw new VippsApiException(last.StatusCode, last.ErrorCode,
            $"{last.Title} (the access token of merchant {merchant} could not be refreshed; next attempt at {failure.RetryAt:O})", last, last.TraceId);
    }

    private TimeSpan BackoffAfter(int failures)
    {
        var max = TimeSpan.FromSeconds(options.Value.TokenRefreshBackoffMaxSeconds);
        var seconds = Math.Pow(2, Math.Min(failures - 1, 30));
        return seconds >= max.TotalSeconds ? max : TimeSpan.FromSeconds(seconds);
    }

    public void Invalidate(string merchant, string rejectedToken)
    {
        if (caches.TryGetValue(merchant, out var cache) && cache.Current is { } current && current.Value == rejectedToken)
        {
            cache.TryReplace(current, null);
        }
    }

    private async Task<CachedToken> FetchAsync(string merchant, VippsMerchantOptions merchantOptions, CancellationToken cancellationToken)
    {
        var requestedAt = timeProvider.GetUtcNow();
        var client = httpClientFactory.CreateClient(VippsHttpClientNames.AccessToken);

        using var request = new HttpRequestMessage(HttpMethod.Post, "accesstoken/get") { Content = new ByteArrayContent([]) };
        request.Headers.Add(VippsHeaders.ClientId, merchantOptions.ClientId);
        request.Headers.Add(VippsHeaders.ClientSecret, merchantOptions.ClientSecret);
        request.Headers.Add(VippsHeaders.SubscriptionKey, merchantOptions.SubscriptionKey);
        request.Headers.Add(VippsHeaders.MerchantSerialNumber, merchantOptions.MerchantSerialNumber);
        VippsRequestSender.AddSystemHeaders(request, options.Value);
        request.Options.Set(VippsResilience.Repeatable, true);

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (VippsRequestSender.IsNoAnswer(exception, cancellationToken))
        {
            throw VippsRequestSender.NoAnswer(exception);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var error = await VippsErrors.FromResponseAsync(response, cancellationToken).ConfigureAwait(false);
                logger.LogWarning(
                    "Vipps refused an access token for merchant {Merchant}: {StatusCode} {ErrorCode} {Title}",
                    merchant, (int?)error.StatusCode, error.ErrorCode, error.Title);
                throw error;
            }

            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var token = Parse(body, requestedAt, response.StatusCode);
            logger.LogInformation("Fetched a Vipps access token for merchant {Merchant}, valid until {ExpiresAt}", merchant, token.ExpiresAt);
            return token;
        }
    }

    /// <summary>Every field of the token response is a string, numbers included; a number is tolerated too.</summary>
    private static CachedToken Parse(string body, DateTimeOffset requestedAt, HttpStatusCode status)
    {
        string? accessToken = null;
        long? expiresIn = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (document.RootElement.TryGetProperty("access_token", out var tokenElement) && tokenElement.ValueKind == JsonValueKind.String)
                {
                    accessToken = tokenElement.GetString();
                }

                if (document.RootElement.TryGetProperty("expires_in", out var expiresElement))
                {
                    expiresIn = expiresElement.ValueKind switch
                    {
                        JsonValueKind.String when long.TryParse(expiresElement.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) => seconds,
                        JsonValueKind.Number when expiresElement.TryGetInt64(out var seconds) => seconds,
                        _ => null,
                    };
                }
            }
        }
        catch (JsonException exception)
        {
            throw new VippsApiException(status, null, "The access token response is not JSON.", exception);
        }

        if (string.IsNullOrEmpty(accessToken) || expiresIn is not > 0)
        {
            throw new VippsApiException(status, null, "The access token response lacks access_token or a positive expires_in.");
        }

        // Measured from when we asked, not when the answer came, so network latency only makes us refresh earlier.
        var lifetime = TimeSpan.FromSeconds(expiresIn.Value);
        var margin = TimeSpan.FromTicks(Math.Min(MaxRefreshMargin.Ticks, lifetime.Ticks / 10));
        return new CachedToken(accessToken, requestedAt + lifetime, requestedAt + lifetime - margin);
    }

    private sealed record CachedToken(string Value, DateTimeOffset ExpiresAt, DateTimeOffset RefreshAt)
    {
        public bool IsFresh(DateTimeOffset now) => now < RefreshAt;

        /// <summary>Past its refresh time but not expired: still accepted by Vipps.</summary>
        public bool IsValid(DateTimeOffset now) => now < ExpiresAt;
    }

    private sealed record RefreshFailure(VippsApiException Error, DateTimeOffset RetryAt);

    private sealed class MerchantTokenCache
    {
        private CachedToken? current;

        private RefreshFailure? failure;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Written under <see cref="Gate"/> only.</summary>
        public int ConsecutiveFailures { get; set; }

        /// <summary>The last failed refresh and when the next may run; null after a success.</summary>
        public RefreshFailure? Failure
        {
            get => Volatile.Read(ref failure);
            set => Volatile.Write(ref failure, value);
        }

        public CachedToken? Current
        {
            get => Volatile.Read(ref current);
            set => Volatile.Write(ref current, value);
        }

        public void TryReplace(CachedToken expected, CachedToken? replacement) =>
            Interlocked.CompareExchange(ref current, replacement, expected);
    }
}
