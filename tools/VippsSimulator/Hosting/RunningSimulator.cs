using Microsoft.Extensions.Options;
using VippsSimulator.Control;
using VippsSimulator.Faults;
using VippsSimulator.Payments;
using VippsSimulator.Webhooks;

namespace VippsSimulator.Hosting;

/// <summary>A simulator started by <see cref="SimulatorApp.StartAsync"/>: its address and its services for direct assertions.</summary>
public sealed class RunningSimulator : IAsyncDisposable
{
    private readonly WebApplication _app;

    internal RunningSimulator(WebApplication app, string baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>http://127.0.0.1:{port}, no trailing slash: the Vipps base URL for clients (Vipps:BaseUrl).</summary>
    public string BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    public SimulatorLedger Ledger => Services.GetRequiredService<SimulatorLedger>();

    public FaultInjector Faults => Services.GetRequiredService<FaultInjector>();

    public SimulatorClock Clock => Services.GetRequiredService<SimulatorClock>();

    public WebhookDeliveryLog WebhookDeliveries => Services.GetRequiredService<WebhookDeliveryLog>();

    /// <summary>The gateway: <see cref="VippsRequestPipeline.InFlightRequests"/> and <see cref="VippsRequestPipeline.InFlightConflicts"/>.</summary>
    public Http.VippsRequestPipeline Pipeline => Services.GetRequiredService<Http.VippsRequestPipeline>();

    public SimulatorOptions Options => Services.GetRequiredService<IOptions<SimulatorOptions>>().Value;

    /// <summary>Moves the simulator clock and expires what became due, as <c>POST /_sim/clock/advance</c> does.</summary>
    public int AdvanceClock(TimeSpan by)
    {
        Clock.Advance(by);
        return Services.GetRequiredService<PaymentService>().ExpireDue();
    }

    /// <summary>The customer approves in the app: null on success, else the reason it was refused.</summary>
    public string? Approve(string reference, string? msn = null) => Customer(reference, msn, (s, p) => s.CustomerApprove(p));

    /// <summary>The customer aborts in the app: null on success, else the reason it was refused.</summary>
    public string? Abort(string reference, string? msn = null) => Customer(reference, msn, (s, p) => s.CustomerAbort(p));

    private string? Customer(string reference, string? msn, Func<PaymentService, Payment, string?> action)
    {
        var store = Services.GetRequiredService<PaymentStore>();
        var payment = msn is not null ? store.Find(msn, reference) : store.FindAll(reference) is [var only] ? only : null;
        if (payment is null) throw new InvalidOperationException($"No single payment with reference '{reference}'.");
        return action(Services.GetRequiredService<PaymentService>(), payment);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
