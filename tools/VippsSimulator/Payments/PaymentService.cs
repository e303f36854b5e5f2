using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using VippsSimulator.Auth;
using VippsSimulator.Hosting;
using VippsSimulator.Http;

namespace VippsSimulator.Payments;

/// <summary>
/// The ePayment rules: states, aggregate, event log, idempotency and the documented error codes. Every method returns
/// the full HTTP answer (<see cref="StoredResponse"/>) because idempotent replays must return it byte for byte.
/// </summary>
public sealed class PaymentService(
    PaymentStore store, SimulatorClock clock, IOptions<SimulatorOptions> options, IPaymentEventSink sink, ILogger<PaymentService> logger)
{
    private static readonly long[] RefusedApprovalAmounts = [151, 182, 183, 184, 186, 187, 197];
    private long _pspSequence = RandomNumberGenerator.GetInt32(1_000_000, 9_000_000) * 1000L;

    public StoredResponse Create(Merchant merchant, string idempotencyKey, JsonNode? request, CreatePaymentCommand command, string baseUrl, string instance)
    {
        var now = clock.GetUtcNow();
        var candidate = new Payment
        {
            MerchantId = merchant.Id,
            Msn = merchant.Msn,
            Reference = command.Reference,
            Amount = command.Amount,
            PaymentMethodType = command.PaymentMethodType,
            UserFlow = command.UserFlow,
            QrFormat = command.QrFormat,
            QrSize = command.QrSize,
            Description = command.Description,
            Receipt = command.Receipt,
            Metadata = command.Metadata,
            ProfileScope = command.ProfileScope,
            CustomerToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant(),
            CreatedPspReference = NextPspReference(),
            CreateIdempotencyKey = idempotencyKey,
            CreateRequest = request,
            CreatedAt = now,
            ExpiresAt = command.ExpiresAt ?? now.AddSeconds(options.Value.PaymentExpirySeconds),
        };
        var payment = store.GetOrAdd(candidate);
        lock (payment.Sync)
        {
            if (!ReferenceEquals(payment, candidate))
            {
                // The reference exists: a retry with the same key and body replays, anything else conflicts.
                if (payment.CreateIdempotencyKey != idempotencyKey)
                    return Log(payment, "create", idempotencyKey, null, Problem(VippsError.Conflict("4150", "Reference already exists"), instance));
                if (!JsonNode.DeepEquals(payment.CreateRequest, request))
                    return Log(payment, "create", idempotencyKey, null, Problem(VippsError.Conflict("4020", "Idempotency key already used with another request"), instance));
                return Log(payment, "create", idempotencyKey, null, payment.CreateResponse!, replayed: true);
            }
            payment.CreateResponse = Json(201, new CreatePaymentView(payment.Reference, PaymentLinks.RedirectUrl(baseUrl, payment)));
            Emit(payment, PaymentEventName.CREATED, payment.Amount.Value, idempotencyKey, payment.CreatedPspReference);
            logger.LogInformation("Payment {Msn}/{Reference} created for {Amount} {Currency}", payment.Msn, payment.Reference, payment.Amount.Value, payment.Amount.Currency);
            return Log(payment, "create", idempotencyKey, payment.Amount.Value, payment.CreateResponse);
        }
    }

    public StoredResponse Get(Merchant merchant, string reference, string baseUrl, string instance) => Read(merchant, reference, instance, p =>
    {
        var sub = p.ProfileScope is not null && p.State == PaymentState.AUTHORIZED ? DeterministicSub(p) : null;
        return new GetPaymentView(PaymentViews.Aggregate(p), p.Amount, p.State, new PaymentMethodView(p.PaymentMethodType), new ProfileView(sub),
            p.CreatedPspReference, PaymentLinks.RedirectUrl(baseUrl, p), p.Reference, p.Metadata);
    });

    public StoredResponse Events(Merchant merchant, string reference, string instance) =>
        Read(merchant, reference, instance, p => p.Events.Select(PaymentViews.Event).ToList());

    public StoredResponse Capture(Merchant merchant, string reference, string key, JsonNode? body, Money amount, string instance) =>
        Adjust(merchant, reference, "capture", key, body, amount.Value, instance, p =>
        {
            if (amount.Currency != p.Amount.Currency) return VippsError.BadRequest("4040", "Invalid amount", "The currency differs from the payment's.");
            if (amount.Value <= 0) return VippsError.BadRequest("4040", "Invalid amount", "Capture a positive amount.");
            if (p.State == PaymentState.TERMINATED || p.Cancelled > 0) return VippsError.BadRequest("6070", "Cannot capture a cancelled payment");
            if (p.State != PaymentState.AUTHORIZED) return VippsError.BadRequest("6080", "Cannot capture before reservation");
            if (clock.GetUtcNow() > p.AuthorizedAt!.Value + CaptureWindow(p)) return VippsError.BadRequest("6100", "Capture period expired");
            if (p.Captured + amount.Value > p.Authorized) return VippsError.BadRequest("6090", "Capture amount too high",
                $"Authorized {p.Authorized}, captured {p.Captured}, requested {amount.Value}.");
            p.Captured += amount.Value;
            p.FirstCapturedAt ??= clock.GetUtcNow();
            Emit(p, PaymentEventName.CAPTURED, amount.Value, key);
            return null;
        });

    public StoredResponse Cancel(Merchant merchant, string reference, string? key, JsonNode? body, bool cancelTransactionOnly, string instance) =>
        Adjust(merchant, reference, "cancel", key, body, null, instance, p =>
        {
            switch (p.State)
            {
                case PaymentState.CREATED:
                    // Cancel before authorization terminates the payment; cancelled shows the full amount.
                    p.State = PaymentState.TERMINATED;
                    p.Cancelled = p.Amount.Value;
                    Emit(p, PaymentEventName.TERMINATED, p.Amount.Value, key);
                    return null;
                case PaymentState.TERMINATED:
                    return null; // nothing left to release: answer the current state, log nothing new
                case PaymentState.ABORTED or PaymentState.EXPIRED:
                    return VippsError.BadRequest("6050", "Cannot cancel a payment that is not reserved");
            }
            if (cancelTransactionOnly) return VippsError.BadRequest("6060", "Cannot cancel an authorized payment", "cancelTransactionOnly was set and the payment is authorized.");
            if (p.Cancelled > 0) return null;
            if (p.Captured >= p.Authorized) return VippsError.BadRequest("6040", "Cannot cancel a captured payment", "Refund instead.");
            if (clock.GetUtcNow() > p.AuthorizedAt!.Value + TimeSpan.FromDays(180)) return VippsError.BadRequest("6030", "Cancel period expired");
            var remainder = p.Authorized - p.Captured;
            p.Cancelled = remainder;
            Emit(p, PaymentEventName.CANCELLED, remainder, key);
            return null;
        });

    public StoredResponse Refund(Merchant merchant, string reference, string key, JsonNode? body, Money amount, string instance) =>
        Adjust(merchant, reference, "refund", key, body, amount.Value, instance, p =>
        {
            if (amount.Currency != p.Amount.Currency) return VippsError.BadRequest("4040", "Invalid amount", "The currency differs from the payment's.");
            if (amount.Value <= 0) return VippsError.BadRequest("4040", "Invalid amount", "Refund a positive amount.");
            if (p.Captured == 0) return VippsError.BadRequest("6020", "Cannot refund before capture");
            if (options.Value.TriggerAmounts && p.Amount.Value == 123) return VippsError.BadRequest("5100", "Refund not possible");
            if (options.Value.TriggerAmounts && p.Amount.Value == 124 || clock.GetUtcNow() > p.FirstCapturedAt!.Value + TimeSpan.FromDays(365))
                return VippsError.BadRequest("6220", "Refund period expired");
            if (amount.Value > p.Captured - p.Refunded) return VippsError.BadRequest("6150", "Not enough refundable",
                $"Captured {p.Captured}, refunded {p.Refunded}, requested {amount.Value}.");
            p.Refunded += amount.Value;
            Emit(p, PaymentEventName.REFUNDED, amount.Value, key);
            return null;
        });

    /// <summary>The test-environment force approve: 200 with an empty body, or a 10010/10020 problem.</summary>
    public StoredResponse ForceApprove(Merchant merchant, string reference, string? token, string instance)
    {
        var p = store.Find(merchant.Msn, reference);
        if (p is null) return Problem(VippsError.NotFound(reference), instance);
        lock (p.Sync)
        {
            ExpireIfDue(p);
            if (token is not null && token != p.CustomerToken)
                return Log(p, "force-approve", null, null, Problem(VippsError.BadRequest("10010", "Approve failed", "The token does not belong to this payment."), instance));
            var failure = ApproveLocked(p, "force approve");
            var response = failure is null ? new StoredResponse(200, "application/json", []) : Problem(VippsError.BadRequest(failure.Value.Code, "Approve failed", failure.Value.Reason), instance);
            return Log(p, "force-approve", null, p.Amount.Value, response);
        }
    }

    /// <summary>The customer approves in the app (customer page or /_sim): null on success, else why not.</summary>
    public string? CustomerApprove(Payment p)
    {
        lock (p.Sync)
        {
            ExpireIfDue(p);
            var failure = ApproveLocked(p, "customer");
            Log(p, "customer-approve", null, p.Amount.Value, new StoredResponse(failure is null ? 200 : 400, "text/plain", []), outcome: failure?.Reason);
            return failure?.Reason;
        }
    }

    public string? CustomerAbort(Payment p)
    {
        lock (p.Sync)
        {
            ExpireIfDue(p);
            string? failure = null;
            if (p.State != PaymentState.CREATED) failure = $"The payment is {p.State} and can no longer be aborted.";
            else
            {
                p.State = PaymentState.ABORTED;
                Emit(p, PaymentEventName.ABORTED, p.Amount.Value, null);
            }
            Log(p, "customer-abort", null, null, new StoredResponse(failure is null ? 200 : 400, "text/plain", []), outcome: failure);
            return failure;
        }
    }

    /// <summary>The customer scanned the QR or opened the page (and may walk away): recorded, no state change.</summary>
    public void CustomerOpen(Payment p)
    {
        lock (p.Sync)
        {
            ExpireIfDue(p);
            p.OpenedAt ??= clock.GetUtcNow();
            Log(p, "customer-open", null, null, new StoredResponse(200, "text/plain", []));
        }
    }

    /// <summary>Moves every CREATED payment past its expiry to EXPIRED (the background sweep and /_sim/clock/advance call it).</summary>
    public int ExpireDue()
    {
        var expired = 0;
        foreach (var p in store.All)
        {
            lock (p.Sync)
            {
                if (ExpireIfDue(p)) expired++;
            }
        }
        return expired;
    }

    /// <summary>Brings a payment up to date with the clock; call under its lock before reading or changing it.</summary>
    public bool ExpireIfDue(Payment p)
    {
        if (p.State != PaymentState.CREATED || clock.GetUtcNow() < p.ExpiresAt) return false;
        p.State = PaymentState.EXPIRED;
        Emit(p, PaymentEventName.EXPIRED, p.Amount.Value, null);
        logger.LogInformation("Payment {Msn}/{Reference} expired", p.Msn, p.Reference);
        return true;
    }

    private (string Code, string Reason)? ApproveLocked(Payment p, string via)
    {
        if (p.State != PaymentState.CREATED) return ("10020", $"The payment is {p.State} and can no longer be approved.");
        if (options.Value.TriggerAmounts && RefusedApprovalAmounts.Contains(p.Amount.Value))
            return ("10010", $"The test card refused the amount {p.Amount.Value} (trigger amount).");
        p.State = PaymentState.AUTHORIZED;
        p.Authorized = p.Amount.Value;
        p.AuthorizedAt = clock.GetUtcNow();
        Emit(p, PaymentEventName.AUTHORIZED, p.Amount.Value, null);
        logger.LogInformation("Payment {Msn}/{Reference} authorized by {Via}", p.Msn, p.Reference, via);
        return null;
    }

    private StoredResponse Read<T>(Merchant merchant, string reference, string instance, Func<Payment, T> view)
    {
        var p = store.Find(merchant.Msn, reference);
        if (p is null) return Problem(VippsError.NotFound(reference), instance);
        lock (p.Sync)
        {
            ExpireIfDue(p);
            return Json(200, view(p));
        }
    }

    private StoredResponse Adjust(Merchant merchant, string reference, string operation, string? key, JsonNode? body, long? amount, string instance, Func<Payment, VippsError?> apply)
    {
        var p = store.Find(merchant.Msn, reference);
        if (p is null) return Problem(VippsError.NotFound(reference), instance);
        lock (p.Sync)
        {
            ExpireIfDue(p);
            if (key is not null && p.Idempotency.TryGetValue((operation, key), out var record))
            {
                if (JsonNode.DeepEquals(record.Request, body)) return Log(p, operation, key, amount, record.Response, replayed: true);
                var conflict = operation == "capture"
                    ? VippsError.Conflict("4010", "Capture idempotency conflict")
                    : VippsError.Conflict("4020", "Idempotency key already used with another request");
                return Log(p, operation, key, amount, Problem(conflict, instance));
            }
            var error = apply(p);
            var response = error is null ? Json(200, PaymentViews.Modification(p)) : Problem(error, instance);
            // A key keeps its answer for the payment's life, 4xx included ("a 4xx stays 4xx for that key").
            if (key is not null) p.Idempotency[(operation, key)] = new IdempotencyRecord(body, response);
            return Log(p, operation, key, amount, response);
        }
    }

    /// <summary>Records a request the pipeline refused before it reached the payment (e.g. its key was in flight), if the payment exists.</summary>
    public void LogRejected(string msn, string reference, string operation, string? key, StoredResponse response, string outcome)
    {
        var p = store.Find(msn, reference);
        if (p is null) return;
        lock (p.Sync) Log(p, operation, key, null, response, outcome: outcome);
    }

    private void Emit(Payment p, PaymentEventName name, long amount, string? key, string? pspReference = null)
    {
        var e = new PaymentEvent(p.Msn, p.Reference, pspReference ?? NextPspReference(), name, p.Of(amount), clock.GetUtcNow(), key, true);
        p.Events.Add(e);
        sink.Publish(e);
    }

    private StoredResponse Log(Payment p, string operation, string? key, long? amount, StoredResponse response, bool replayed = false, string? outcome = null)
    {
        outcome ??= response.Status < 300 ? "ok" : ErrorCodeOf(response) ?? response.Status.ToString();
        p.Operations.Add(new LedgerOperation(clock.GetUtcNow(), operation, key, response.Status, outcome, amount, replayed));
        return response;
    }

    private static string? ErrorCodeOf(StoredResponse response)
    {
        if (response.ContentType != ProblemResults.ContentType) return null;
        var body = JsonSerializer.Deserialize<ProblemBody>(response.Body, SimulatorJson.Options);
        return body?.ExtraDetails?.FirstOrDefault(d => d.Name == "ErrorCode")?.Reason;
    }

    /// <summary>Norway 180 days; Denmark and Finland (DKK, EUR) 14 days from authorization.</summary>
    private static TimeSpan CaptureWindow(Payment p) => p.Amount.Currency == "NOK" ? TimeSpan.FromDays(180) : TimeSpan.FromDays(14);

    private static string DeterministicSub(Payment p) => new Guid(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{p.Msn}/{p.Reference}"))[..16]).ToString();

    private string NextPspReference() => Interlocked.Increment(ref _pspSequence).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static StoredResponse Json<T>(int status, T body) =>
        new(status, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(body, SimulatorJson.Options));

    public static StoredResponse Problem(VippsError error, string instance) =>
        new(error.Status, ProblemResults.ContentType, JsonSerializer.SerializeToUtf8Bytes(error.ToBody(instance), SimulatorJson.Options));
}
