using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using VippsSimulator.Auth;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Payments;

namespace VippsSimulator.Http;

/// <summary>
/// What every Vipps API call passes through before its handler, in the gateway's order: bearer token, subscription
/// key and MSN; then the in-flight check of the idempotency key; then injected faults; then the per-reference rate
/// limit. A <see cref="FaultKind.ResponseLost"/> fault runs the handler and then throws its answer away.
/// </summary>
public sealed partial class VippsRequestPipeline(
    AccessTokens tokens, MerchantDirectory merchants, FaultInjector faults, RateLimiter rateLimiter, PaymentService payments,
    IOptions<SimulatorOptions> options, ILogger<VippsRequestPipeline> logger)
{
    [GeneratedRegex("^[0-9]{4,10}$")] private static partial Regex MsnPattern();

    private static readonly string[] KeyedEndpoints = ["create", "capture", "cancel", "refund"];

    /// <summary>The (MSN, operation, reference, key) of every keyed request being processed right now.</summary>
    private readonly ConcurrentDictionary<(string Msn, string Endpoint, string Reference, string Key), byte> _inFlight = new();

    /// <summary>How many requests were refused because their idempotency key was still in flight (tests and the load harness read it).</summary>
    public long InFlightConflicts => Interlocked.Read(ref _inFlightConflicts);
    private long _inFlightConflicts;

    /// <summary>Keyed requests being processed right now (tests wait on it to know a first request is in flight).</summary>
    public int InFlightRequests => _inFlight.Count;

    /// <param name="msnRequired">ePayment demands the MSN header; the Webhooks API lets it default to the token's merchant.</param>
    public async Task<IResult> Run(HttpContext context, string endpoint, string? reference, bool msnRequired, Func<Merchant, Task<IResult>> handler)
    {
        var (merchant, authError) = Authenticate(context.Request, msnRequired);
        if (merchant is null) return authError!.ToResult(context);

        // Vipps refuses a second request with a key whose first request it is still processing (409) rather than run
        // both: the request that shows two callers working one operation at once.
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        var slot = (merchant.Msn, endpoint, reference ?? "", key);
        var keyed = key.Length > 0 && KeyedEndpoints.Contains(endpoint);
        if (keyed && !_inFlight.TryAdd(slot, 0))
        {
            Interlocked.Increment(ref _inFlightConflicts);
            logger.LogWarning("Idempotency key {Key} of {Endpoint} for {Msn}/{Reference} is already in flight: 409", key, endpoint, merchant.Msn, reference);
            var conflict = PaymentService.Problem(VippsError.Conflict(InFlightCode, "Idempotency key in use by a request in progress") with
            {
                Detail = "A request with this Idempotency-Key is still being processed; retry after it has been answered.",
            }, context.Request.Path);
            if (reference is not null) payments.LogRejected(merchant.Msn, reference, endpoint, key, conflict, InFlightOutcome);
            return new StoredResult(conflict);
        }
        try
        {
            var fault = await ApplyFault(context, endpoint, merchant.Msn, reference);
            if (fault is not null && fault.Kind != FaultKind.ResponseLost) return FaultResult(context, fault);

            if (reference is not null && endpoint != "approve" &&
                !rateLimiter.TryAcquire(endpoint, merchant.Msn, merchant.Options.SubscriptionKey, reference, out var retryAfter))
            {
                logger.LogInformation("Rate limit hit on {Endpoint} for {Msn}/{Reference}", endpoint, merchant.Msn, reference);
                context.Response.Headers.RetryAfter = Seconds(retryAfter);
                return new VippsError(429, "Too Many Requests", Detail: "Rate limit exceeded for this reference.").ToResult(context);
            }

            var result = await handler(merchant);
            if (fault is null) return result;
            logger.LogInformation("Fault: {Endpoint} for {Reference} applied, answer replaced by {Status}", endpoint, reference, fault.Status);
            return FaultResult(context, fault);
        }
        finally
        {
            if (keyed) _inFlight.TryRemove(slot, out _);
        }
    }

    /// <summary>ErrorCode of the in-flight 409: Vipps' generic idempotency error (4020), on capture too.</summary>
    public const string InFlightCode = "4020";

    /// <summary>The ledger outcome of a request refused because its key was in flight.</summary>
    public const string InFlightOutcome = "in-flight";

    private static string Seconds(TimeSpan wait) =>
        Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds latency and hangs; returns the failure rule (error or lost response) if one was drawn.</summary>
    public async Task<FaultRule?> ApplyFault(HttpContext context, string endpoint, string? msn, string? reference)
    {
        var decision = faults.Decide(endpoint, msn, reference);
        if (decision.LatencyMilliseconds > 0) await Task.Delay(decision.LatencyMilliseconds, context.RequestAborted);
        if (decision.Failure is { Kind: FaultKind.Hang } hang)
        {
            logger.LogInformation("Fault: {Endpoint} for {Reference} hangs up to {Seconds} s", endpoint, reference, hang.HangSeconds);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(hang.HangSeconds), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client gave up, which is the point of the fault.
            }
            return new FaultRule { Kind = FaultKind.Error, Status = 500 };
        }
        return decision.Failure;
    }

    public static IResult FaultResult(HttpContext context, FaultRule fault)
    {
        // 401 comes from Vipps' API gateway (Azure API Management), not the API: its own JSON shape, not a problem body.
        // A rotated or revoked subscription key is refused this way on the token endpoint and on every API call alike.
        if (fault.Status == 401) return Results.Json(new GatewayError(401, GatewayKeyRefused), SimulatorJson.Options, "application/json", 401);
        var error = fault.Status switch
        {
            400 or 409 => new VippsError(fault.Status,
                fault.Title ?? FaultInjector.RefusalTitles.GetValueOrDefault(fault.ErrorCode!, "Request refused"), fault.ErrorCode,
                "Injected refusal."),
            429 => new VippsError(429, "Too Many Requests", Detail: "Injected fault."),
            423 => new VippsError(423, "Locked", Detail: "Injected fault: the payment is being processed, retry soon."),
            500 => new VippsError(500, "Internal Server Error", "3010", "Injected fault."),
            403 => new VippsError(403, "Forbidden", Detail: "Injected fault: the Merchant-Serial-Number is not accessible with these credentials."),
            502 => new VippsError(502, "Bad Gateway", Detail: "Injected fault."),
            503 => new VippsError(503, "Service Unavailable", Detail: "Injected fault: the service is temporarily unavailable."),
            504 => new VippsError(504, "Gateway Timeout", Detail: "Injected fault."),
            _ => new VippsError(fault.Status, "Injected fault", Detail: "Injected fault."),
        };
        if (fault.Status == 429) context.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return error.ToResult(context);
    }

    /// <summary>The gateway's wording for a refused subscription key (the Vipps FAQ on 401 quotes it).</summary>
    public const string GatewayKeyRefused = "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.";

    private (Merchant? Merchant, VippsError? Error) Authenticate(HttpRequest request, bool msnRequired)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal))
            return (null, new VippsError(401, "Unauthorized", Detail: "Missing Authorization: Bearer <access token>."));
        var clientId = tokens.Validate(authorization["Bearer ".Length..].Trim());
        var merchant = clientId is null ? null : merchants.ByClientId(clientId);
        if (merchant is null) return (null, new VippsError(401, "Unauthorized", Detail: "The access token is invalid or expired."));

        var subscriptionKey = request.Headers["Ocp-Apim-Subscription-Key"].ToString();
        if (subscriptionKey.Length == 0 || merchants.BySubscriptionKey(subscriptionKey) is not { } keyOwner)
            return (null, new VippsError(401, "Unauthorized", Detail: "Access denied due to missing or invalid subscription key."));
        if (keyOwner != merchant)
            return (null, new VippsError(403, "Forbidden", Detail: "The subscription key does not belong to the token's merchant."));

        var msn = request.Headers["Merchant-Serial-Number"].ToString();
        if (msn.Length == 0 && !msnRequired) return (merchant, null);
        if (msn.Length == 0) return (null, new VippsError(403, "Forbidden", Detail: "Missing Merchant-Serial-Number header."));
        if (!MsnPattern().IsMatch(msn) || msn != merchant.Msn)
            return (null, new VippsError(403, "Forbidden", Detail: "The Merchant-Serial-Number is not accessible with these credentials."));
        return (merchant, null);
    }

    /// <summary>The base of links handed out: the configured public URL, else the scheme and host the caller used.</summary>
    public string BaseUrl(HttpRequest request) =>
        options.Value.PublicBaseUrl is { Length: > 0 } configured ? configured.TrimEnd('/') : $"{request.Scheme}://{request.Host}";
}

/// <summary>The body Vipps' API gateway answers 401 with: <c>{"statusCode": 401, "message": "..."}</c>.</summary>
public sealed record GatewayError(int StatusCode, string Message);

/// <summary>Writes a <see cref="StoredResponse"/> as it was first answered.</summary>
public sealed class StoredResult(StoredResponse response) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = response.Status;
        if (response.Body.Length == 0) return Task.CompletedTask;
        httpContext.Response.ContentType = response.ContentType;
        return httpContext.Response.Body.WriteAsync(response.Body).AsTask();
    }
}
