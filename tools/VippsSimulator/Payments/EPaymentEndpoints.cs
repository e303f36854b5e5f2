using System.Text.Json;
using VippsSimulator.Auth;
using VippsSimulator.Hosting;
using VippsSimulator.Http;

namespace VippsSimulator.Payments;

/// <summary>ePayment v1 routes: parse and check the request, then hand it to <see cref="PaymentService"/>.</summary>
public static class EPaymentEndpoints
{
    public static void MapEPayment(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/epayment/v1");

        group.MapPost("/payments", async (HttpContext context, VippsRequestPipeline pipeline, PaymentService payments, SimulatorClock clock) =>
        {
            var (body, bodyError) = await RequestBody.Read(context.Request);
            var reference = body?.Element is { ValueKind: JsonValueKind.Object } e && e.TryGetProperty("reference", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return await pipeline.Run(context, "create", reference, msnRequired: true, merchant =>
            {
                if (RequestBody.IdempotencyKeyProblem(context.Request, required: true, out var key) is { } keyError) return Done(keyError.ToResult(context));
                if (bodyError is not null) return Done(bodyError.ToResult(context));
                if (body!.Element is not { } element) return Done(VippsError.Validation([new ExtraDetail("body", "A CreatePaymentRequest body is required.")], "4140").ToResult(context));
                var (command, error) = CreatePaymentValidator.Validate(element, merchant, clock.GetUtcNow());
                if (error is not null) return Done(error.ToResult(context));
                return Done(new StoredResult(payments.Create(merchant, key!, body.Node, command!, pipeline.BaseUrl(context.Request), context.Request.Path)));
            });
        });

        group.MapGet("/payments/{reference}", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "get", reference, msnRequired: true, merchant =>
                Done(new StoredResult(payments.Get(merchant, reference, pipeline.BaseUrl(context.Request), context.Request.Path)))));

        group.MapGet("/payments/{reference}/events", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "events", reference, msnRequired: true, merchant =>
                Done(new StoredResult(payments.Events(merchant, reference, context.Request.Path)))));

        group.MapPost("/payments/{reference}/capture", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "capture", reference, msnRequired: true, async merchant =>
            {
                var (key, body, amount, error) = await ReadModification(context);
                return error is not null
                    ? error.ToResult(context)
                    : new StoredResult(payments.Capture(merchant, reference, key!, body!.Node, amount!, context.Request.Path));
            }));

        group.MapPost("/payments/{reference}/refund", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "refund", reference, msnRequired: true, async merchant =>
            {
                var (key, body, amount, error) = await ReadModification(context);
                return error is not null
                    ? error.ToResult(context)
                    : new StoredResult(payments.Refund(merchant, reference, key!, body!.Node, amount!, context.Request.Path));
            }));

        group.MapPost("/payments/{reference}/cancel", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "cancel", reference, msnRequired: true, async merchant =>
            {
                // The spec declares no Idempotency-Key on cancel; Vipps accepts one, and so do we (optional).
                if (RequestBody.IdempotencyKeyProblem(context.Request, required: false, out var key) is { } keyError) return keyError.ToResult(context);
                var (body, bodyError) = await RequestBody.Read(context.Request);
                if (bodyError is not null) return bodyError.ToResult(context);
                var transactionOnly = false;
                if (body!.Element is { } element)
                {
                    var shape = new JsonShape();
                    if (shape.Object(element, "", ["cancelTransactionOnly"]) && JsonShape.Has(element, "cancelTransactionOnly", out var flag))
                        transactionOnly = shape.Boolean(flag, "cancelTransactionOnly") ?? false;
                    if (shape.HasErrors) return shape.ToError().ToResult(context);
                }
                return new StoredResult(payments.Cancel(merchant, reference, key, body.Node, transactionOnly, context.Request.Path));
            }));

        group.MapPost("/test/payments/{reference}/approve", (HttpContext context, string reference, VippsRequestPipeline pipeline, PaymentService payments) =>
            pipeline.Run(context, "approve", reference, msnRequired: true, async merchant =>
            {
                var (body, bodyError) = await RequestBody.Read(context.Request);
                if (bodyError is not null) return bodyError.ToResult(context);
                string? token = null;
                if (body!.Element is { } element)
                {
                    var shape = new JsonShape();
                    if (shape.Object(element, "", ["customer", "token"]))
                    {
                        if (JsonShape.Has(element, "token", out var t)) token = shape.String(t, "token");
                        if (JsonShape.Has(element, "customer", out var c) && shape.Object(c, "customer", ["phoneNumber", "personalQr", "customerToken"])
                            && c.EnumerateObject().Count() != 1)
                            shape.Fail("customer", "Give exactly one of phoneNumber, personalQr and customerToken.");
                    }
                    if (shape.HasErrors) return shape.ToError().ToResult(context);
                }
                return new StoredResult(payments.ForceApprove(merchant, reference, token, context.Request.Path));
            }));
    }

    private static Task<IResult> Done(IResult result) => Task.FromResult(result);

    /// <summary>Capture and refund bodies: <c>{ "modificationAmount": Amount }</c> and a required Idempotency-Key.</summary>
    private static async Task<(string? Key, RequestBody? Body, Money? Amount, VippsError? Error)> ReadModification(HttpContext context)
    {
        if (RequestBody.IdempotencyKeyProblem(context.Request, required: true, out var key) is { } keyError) return (null, null, null, keyError);
        var (body, bodyError) = await RequestBody.Read(context.Request);
        if (bodyError is not null) return (null, null, null, bodyError);
        if (body!.Element is not { } element)
            return (null, null, null, VippsError.Validation([new ExtraDetail("modificationAmount", "The field is required.")], "4140"));
        var shape = new JsonShape();
        Money? amount = null;
        if (shape.Object(element, "", ["modificationAmount"], "modificationAmount") && JsonShape.Has(element, "modificationAmount", out var m))
            amount = CreatePaymentValidator.ReadAmount(shape, m, "modificationAmount");
        return shape.HasErrors ? (null, null, null, shape.ToError()) : (key, body, amount, null);
    }
}
