using System.Text.Json;
using VippsSimulator.Auth;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;
using VippsSimulator.Http;
using VippsSimulator.Payments;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Control;

/// <summary>
/// The simulator's own routes under <c>/_sim</c> (no auth: a local test tool): play the customer, move the clock,
/// inject faults, and inspect the ledger and webhook deliveries.
/// </summary>
public static class SimulatorControlEndpoints
{
    public sealed record ClockView(DateTimeOffset Now, double OffsetSeconds, int Expired);
    public sealed record CustomerActionView(string Reference, string Msn, PaymentState State, string? Error);
    public sealed record MerchantView(string Id, string MerchantSerialNumber, string ClientId, string ClientSecret, string SubscriptionKey,
        IReadOnlyList<string> Currencies, string Brand, bool TargetUrlQrApproved);

    public static void MapSimulatorControl(this IEndpointRouteBuilder app)
    {
        var sim = app.MapGroup("/_sim");

        sim.MapGet("/health", () => Results.Text("ok"));

        sim.MapGet("/merchants", (MerchantDirectory merchants) => Results.Json(merchants.All.Select(m => new MerchantView(m.Id, m.Msn, m.Options.ClientId,
            m.Options.ClientSecret, m.Options.SubscriptionKey, m.Options.Currencies, m.Options.Brand, m.Options.TargetUrlQrApproved)), SimulatorJson.Options));

        sim.MapPost("/payments/{reference}/{action}", (string reference, string action, string? msn, PaymentStore store, PaymentService payments) =>
        {
            var candidates = msn is not null ? store.Find(msn, reference) is { } one ? [one] : [] : store.FindAll(reference);
            if (candidates.Count == 0) return Results.NotFound(new { error = $"No payment '{reference}'." });
            if (candidates.Count > 1) return Results.Conflict(new { error = $"Several merchants have '{reference}'; add ?msn=." });
            var payment = candidates[0];
            string? error;
            switch (action)
            {
                case "approve": error = payments.CustomerApprove(payment); break;
                case "abort": error = payments.CustomerAbort(payment); break;
                case "open": payments.CustomerOpen(payment); error = null; break;
                default: return Results.NotFound(new { error = $"Unknown action '{action}': approve, abort or open." });
            }
            PaymentState state;
            lock (payment.Sync) state = payment.State;
            var view = new CustomerActionView(payment.Reference, payment.Msn, state, error);
            return Results.Json(view, SimulatorJson.Options, statusCode: error is null ? 200 : 409);
        });

        sim.MapGet("/clock", (SimulatorClock clock) => Results.Json(new ClockView(clock.GetUtcNow(), clock.Offset.TotalSeconds, 0), SimulatorJson.Options));

        sim.MapPost("/clock/advance", (double seconds, SimulatorClock clock, PaymentService payments) =>
        {
            if (seconds < 0) return Results.BadRequest(new { error = "The clock only moves forward." });
            clock.Advance(TimeSpan.FromSeconds(seconds));
            // Expire at once so a test can assert right after the call, without waiting for the sweep.
            var expired = payments.ExpireDue();
            return Results.Json(new ClockView(clock.GetUtcNow(), clock.Offset.TotalSeconds, expired), SimulatorJson.Options);
        });

        sim.MapGet("/faults", (FaultInjector faults) => Results.Json(faults.Snapshot(), SimulatorJson.Options));

        sim.MapPost("/faults", async (HttpRequest request, FaultInjector faults) =>
        {
            FaultSettings? settings;
            try
            {
                settings = await JsonSerializer.DeserializeAsync<FaultSettings>(request.Body, SimulatorJson.Options);
                if (settings is null) return Results.BadRequest(new { error = "A FaultSettings body is required." });
                faults.Add(settings);
            }
            catch (Exception e) when (e is JsonException or ArgumentException)
            {
                return Results.BadRequest(new { error = e.Message });
            }
            return Results.Json(faults.Snapshot(), SimulatorJson.Options);
        });

        sim.MapDelete("/faults", (FaultInjector faults) =>
        {
            faults.Reset();
            return Results.NoContent();
        });

        sim.MapGet("/ledger", (SimulatorLedger ledger) => Results.Json(ledger.All(), SimulatorJson.Options));

        sim.MapGet("/ledger/{reference}", (string reference, string? msn, SimulatorLedger ledger) =>
            ledger.Find(reference, msn) is { } entry ? Results.Json(entry, SimulatorJson.Options) : Results.NotFound(new { error = $"No (single) payment '{reference}'." }));

        sim.MapGet("/webhooks/deliveries", (string? reference, WebhookDeliveryLog log) => Results.Json(log.Snapshot(reference), SimulatorJson.Options));
    }
}
