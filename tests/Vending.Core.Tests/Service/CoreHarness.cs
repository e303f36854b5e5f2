using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Commands;
using Vending.Core.Events;
using Vending.Core.Machines;
using Vending.Core.Qr;
using Vending.Core.Reconciliation;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Storage;
using Vending.Vipps;
using Vending.Vipps.EPayment;

namespace Vending.Core.Tests.Service;

/// <summary>A clock the test moves by hand (delays still run on real time, which no test waits on).</summary>
public sealed class ManualTime(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

/// <summary>The queue as a list: tests run the commands through the processor when the story says so.</summary>
public sealed class RecordingQueue : ISaleCommandQueue
{
    public List<(SaleCommand Command, TimeSpan Delay)> Sent { get; } = [];

    public Task EnqueueAsync(SaleCommand command, TimeSpan delay, CancellationToken cancellationToken)
    {
        lock (Sent)
        {
            Sent.Add((command, delay));
        }

        return Task.CompletedTask;
    }
}

/// <summary>The real core (store on Azurite, state machine, service, processor, reconciler) with Vipps mocked.</summary>
public sealed class CoreHarness
{
    public const string ImageLink = "https://qr-image.example/v1?token=abc";
    public const string TargetUrl = "https://qr.vipps.example/pay/abc";

    public CoreHarness(AzuriteFixture azurite, VendingOptions? options = null, IOutboxDispatcher? outbox = null, params Azure.Core.Pipeline.HttpPipelinePolicy[] policies)
    {
        if (outbox is not null)
        {
            Outbox.Add(outbox);
        }

        Time = new ManualTime(DateTimeOffset.UtcNow);
        var tables = azurite.Tables(policies);
        Store = new SaleStore(tables, Cache, NullLogger<SaleStore>.Instance);
        Due = new DueSaleIndex(tables);
        var vippsOptions = Microsoft.Extensions.Options.Options.Create(new VippsOptions
        {
            BaseUrl = new Uri("http://127.0.0.1:1"),
            Merchants = new()
            {
                ["vippsno"] = new VippsMerchantOptions { MerchantSerialNumber = "123456", Currencies = ["NOK"] },
                ["mobilepaydk"] = new VippsMerchantOptions { MerchantSerialNumber = "654321", Currencies = ["DKK"], TargetUrlQrApproved = true },
            },
        });
        Options = options ?? new VendingOptions { PublicBaseUrl = new Uri("http://127.0.0.1:7072") };

        Vipps.Setup(v => v.CreatePaymentAsync(It.IsAny<string>(), It.IsAny<CreatePaymentRequest>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string merchant, CreatePaymentRequest request, string _, CancellationToken _) =>
                new CreatePaymentResponse(request.Reference, merchant == "mobilepaydk" ? TargetUrl : ImageLink));
        Vipps.Setup(v => v.GetPaymentEventsAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync([]);
        Vipps.Setup(v => v.CaptureAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string reference, Amount amount, string _, CancellationToken _) => Modification(reference, amount.Value, amount.Value, 0, 0));
        Vipps.Setup(v => v.CancelAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string reference, bool _, string _, CancellationToken _) => Modification(reference, 0, 0, 0, 0));
        Vipps.Setup(v => v.RefundAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<Amount>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string _, string reference, Amount amount, string _, CancellationToken _) => Modification(reference, 0, 0, 0, amount.Value));
        Images.Setup(i => i.FetchAsync(It.IsAny<Uri>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new FetchedImage("image/svg+xml", "<svg>vipps</svg>"u8.ToArray()));

        var options2 = Microsoft.Extensions.Options.Options.Create(Options);
        Recorder = new SaleRecorder(Store, Cache, Due, Queue, Notifier, Outbox, options2, Time, NullLogger<SaleRecorder>.Instance);
        var ingest = new VippsEventIngest(Recorder, Store, Vipps.Object, Time, NullLogger<VippsEventIngest>.Instance);
        var payments = new PaymentCreation(Recorder, Vipps.Object, vippsOptions, NullLogger<PaymentCreation>.Instance);
        Service = new SaleService(Store, new UnmatchedWebhookLog(tables, Time), Recorder, payments, ingest,
            Notifier, new SaleViews(new QrRenderer()), Images.Object, vippsOptions, Time, NullLogger<SaleService>.Instance);
        Processor = new SaleCommandProcessor(Store, Recorder, Queue, Vipps.Object, ingest, options2, Time,
            NullLogger<SaleCommandProcessor>.Instance);
        Reconciler = new Reconciler(Due, Store, Cache, Recorder, payments, ingest, Vipps.Object, Outbox, options2, Time, NullLogger<Reconciler>.Instance);
    }

    public ManualTime Time { get; }
    public Mock<IVippsEPaymentClient> Vipps { get; } = new();
    public Mock<IQrImageFetcher> Images { get; } = new();
    public RecordingQueue Queue { get; } = new();
    public SaleChangeNotifier Notifier { get; } = new();
    public VendingOptions Options { get; }
    public ISaleStore Store { get; }

    /// <summary>This instance's row cache (a test clears it to play another instance).</summary>
    public SaleRowCache Cache { get; } = new();
    public IDueSaleIndex Due { get; }

    /// <summary>None by default; a test that publishes adds its dispatcher here before the harness is built.</summary>
    public List<IOutboxDispatcher> Outbox { get; } = [];
    public SaleRecorder Recorder { get; }
    public SaleService Service { get; }
    public SaleCommandProcessor Processor { get; }
    public Reconciler Reconciler { get; }

    public static Machine Machine(string merchantId = "vippsno", string currency = "NOK", CaptureMode mode = CaptureMode.OnDelivery) =>
        new("vm-" + Guid.NewGuid().ToString("N")[..10], "Lobby", "Oslo", merchantId, currency, mode, "svg", true, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

    public static CreateSaleRequest Request(string machineSaleId = "s-1", string currency = "NOK", QrRequest? qr = null) =>
        new(machineSaleId, currency, [new SaleLineRequest("cola", "Cola", 2, 2500, 2500), new SaleLineRequest("chips", "Chips", 1, 3000, 1500)], qr ?? new QrRequest("svg", null));

    public static PaymentEvent Event(string reference, string name, long amount = 8000, string? psp = null, string? idempotencyKey = null) =>
        new(reference, psp ?? $"psp-{name}", name, new Amount("NOK", amount), DateTimeOffset.UtcNow, true, idempotencyKey);

    public static ModificationResponse Modification(string reference, long authorized, long captured, long cancelled, long refunded) =>
        new(reference, "AUTHORIZED", new Amount("NOK", 8000),
            new Aggregate(new Amount("NOK", authorized), new Amount("NOK", cancelled), new Amount("NOK", captured), new Amount("NOK", refunded)), "psp");

    /// <summary>Runs every queued command (and those they queue) through the processor, like the queue trigger would.</summary>
    public async Task RunCommandsAsync()
    {
        for (var i = 0; i < 20; i++)
        {
            (SaleCommand Command, TimeSpan Delay)[] batch;
            lock (Queue.Sent)
            {
                batch = [.. Queue.Sent];
                Queue.Sent.Clear();
            }

            if (batch.Length == 0)
            {
                return;
            }

            foreach (var (command, _) in batch)
            {
                await Processor.ProcessAsync(command.ToJson(), 1, default);
            }
        }
    }

    public async Task<Sale> SaleAsync(string reference) => (await Store.GetAsync(reference, default))!;
}
