using Azure.Data.Tables;
using Moq;
using Vending.Core.Machines;
using Vending.Core.Operator.Access;
using Vending.Core.Operator.Fleet;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Testing;

namespace VendingFunctions.Tests.Operator;

/// <summary>
/// The day-partitioned listings on real Azurite: the audit trail and the all-machines sales list answer a time range
/// newest first, page across day boundaries without losing or repeating a row, filter by state, and the summary and
/// CSV add up per machine, merchant and currency.
/// </summary>
public sealed class FleetAndAuditStorageTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 10, 9, 30, 0, TimeSpan.Zero);
    private readonly Dictionary<string, Sale> _sales = new(StringComparer.Ordinal);
    private Azurite _azurite = null!;
    private VendingTables _tables = null!;

    public async Task InitializeAsync()
    {
        _azurite = await Azurite.StartAsync();
        _tables = new VendingTables(new TableServiceClient(_azurite.ConnectionString));
    }

    public async Task DisposeAsync() => await _azurite.DisposeAsync();

    [Fact]
    public async Task The_audit_trail_pages_a_range_newest_first_across_days_and_keeps_each_subjects_history()
    {
        var log = new TableOperatorAuditLog(_tables);
        var times = Enumerable.Range(0, 7).Select(i => Now.AddHours(-11 * i)).ToList();   // spans four UTC days
        foreach (var (at, i) in times.Select((t, i) => (t, i)))
        {
            await log.RecordAsync(new AuditEntry(at, OperatorActions.Refund, AuditSubjects.Sale, i % 2 == 0 ? "sale-even-0001" : "sale-odd-00001",
                "user", $"person {i}", $"oid-{i}", $"req-{i}", 202, "succeeded"), CancellationToken.None);
        }

        var read = new List<AuditEntry>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await log.QueryAsync(new AuditQuery(Now.AddHours(-60), Now.AddSeconds(1), 2, token), CancellationToken.None);
            read.AddRange(page.Entries);
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 20);

        // -60 h keeps entries 0..5 (entry 6 is at -66 h); newest first, none lost or repeated.
        Assert.Equal(times.Take(6), read.Select(e => e.At));
        Assert.Equal(["person 0", "person 1", "person 2", "person 3", "person 4", "person 5"], read.Select(e => e.ActorName));
        var even = await log.ForSubjectAsync(AuditSubjects.Sale, "sale-even-0001", 10, CancellationToken.None);
        Assert.Equal(["req-0", "req-2", "req-4", "req-6"], even.Select(e => e.RequestId));
    }

    [Fact]
    public async Task All_machines_sales_page_newest_first_filter_by_state_and_machine_and_add_up()
    {
        await AddAsync("m-north", "vippsno", "NOK", SaleState.Captured, Now.AddMinutes(-5), captured: 2500, refunded: 500);
        await AddAsync("m-south", "mobilepaydk", "DKK", SaleState.Captured, Now.AddHours(-3), captured: 1000);
        await AddAsync("m-north", "vippsno", "NOK", SaleState.Cancelled, Now.AddDays(-1), captured: 0);
        await AddAsync("m-south", "mobilepaydk", "EUR", SaleState.Captured, Now.AddDays(-2), captured: 300);
        await AddAsync("m-north", "vippsno", "NOK", SaleState.Captured, Now.AddDays(-40), captured: 9999);  // outside 30 days
        var store = new Mock<ISaleStore>();
        store.Setup(s => s.GetAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((string r, CancellationToken _) => _sales.GetValueOrDefault(r));
        var time = new Mock<TimeProvider>();
        time.Setup(t => t.GetUtcNow()).Returns(Now);
        var fleet = new FleetQueries(new SalesByDayIndex(_tables), store.Object, time.Object);

        var all = new List<SaleView>();
        string? token = null;
        do
        {
            var page = await fleet.ListAsync(new FleetSalesQuery(Now.AddDays(-30), Now.AddSeconds(1), null, null, 1, token), CancellationToken.None);
            all.AddRange(page.Sales);
            token = page.ContinuationToken;
        }
        while (token is not null && all.Count < 20);
        var captured = await fleet.ListAsync(new FleetSalesQuery(Now.AddDays(-30), Now.AddSeconds(1), null, SaleState.Captured, 10, null), CancellationToken.None);
        var south = await fleet.ListAsync(new FleetSalesQuery(Now.AddDays(-30), Now.AddSeconds(1), "m-south", null, 10, null), CancellationToken.None);
        var summary = await fleet.SummaryAsync(CancellationToken.None);
        var csv = await fleet.ExportCsvAsync(Now.AddDays(-1).AddMinutes(-1), Now.AddSeconds(1), CancellationToken.None);

        Assert.Equal([Now.AddMinutes(-5), Now.AddHours(-3), Now.AddDays(-1), Now.AddDays(-2)], all.Select(s => s.CreatedAt));
        Assert.Equal(3, captured.Sales.Count);
        Assert.All(captured.Sales, s => Assert.Equal(SaleState.Captured, s.State));
        Assert.Equal(["m-south", "m-south"], south.Sales.Select(s => s.MachineId));
        Assert.Equal([new SalesFigures("m-north", "vippsno", "NOK", 1, 2500, 500), new SalesFigures("m-south", "mobilepaydk", "DKK", 1, 1000, 0)], summary.Today.Machines);
        Assert.Equal([new SalesFigures("mobilepaydk", "mobilepaydk", "DKK", 1, 1000, 0), new SalesFigures("mobilepaydk", "mobilepaydk", "EUR", 1, 300, 0),
            new SalesFigures("vippsno", "vippsno", "NOK", 2, 2500, 500)], summary.Last30Days.Merchants);
        Assert.False(summary.Truncated);
        var lines = csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);   // header + the three sales of the last day
        Assert.EndsWith(",Captured,NOK,25.00,25.00,25.00,0.00,5.00", lines[1], StringComparison.Ordinal);
    }

    private async Task AddAsync(string machineId, string merchantId, string currency, SaleState state, DateTimeOffset createdAt, long captured, long refunded = 0)
    {
        var reference = $"{machineId}-{_sales.Count:D8}";
        _sales[reference] = new Sale
        {
            Reference = reference, MachineId = machineId, MachineSaleId = $"ms-{_sales.Count}", MerchantId = merchantId, Currency = currency,
            CaptureMode = CaptureMode.OnDelivery, State = state, Amount = 2500, AuthorizedAmount = 2500, CapturedAmount = captured, RefundedAmount = refunded,
            Lines = [new SaleLine("cola", "Cola", 1, 2500, 2500)], QrRequest = new QrRequest("svg", null),
            CreatedAt = createdAt, UpdatedAt = createdAt, ExpiresAt = createdAt.AddMinutes(5),
        };
        var table = await _tables.GetAsync(TableNames.SalesByDay, CancellationToken.None);
        await table.AddEntityAsync(new TableEntity(SalesByDayKeys.Partition(createdAt), SalesByDayKeys.RowKey(createdAt, reference))
        {
            ["Reference"] = reference,
            ["MachineId"] = machineId,
            ["CreatedAt"] = createdAt,
        });
    }
}
