using LoadTest;
using LoadTest.Phases;
using VippsSimulator.Faults;
using VippsSimulator.Hosting;

namespace LoadTest.Tests;

/// <summary>The <c>--outage</c> fault and the count of goods delivered but not charged (late vend reports).</summary>
public sealed class OutageAndLateReportTests
{
    [Fact]
    public void The_outage_is_parsed_and_bounded()
    {
        Assert.Equal(90, LoadOptions.Parse(["--machines", "50", "--sales", "20", "--faults", "--outage", "90"]).OutageSeconds);
        Assert.Equal(0, LoadOptions.Parse([]).OutageSeconds);
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--outage", "3601"]));
        Assert.Throws<ArgumentException>(() => LoadOptions.Parse(["--outage"]));
    }

    [Fact]
    public async Task The_outage_makes_every_vipps_command_answer_503_for_its_seconds_only()
    {
        await using var simulator = await SimulatorApp.StartAsync(0, new Dictionary<string, string?>());
        simulator.Faults.Add(DrivePhase.OutageRules(90));
        const string Msn = TestMerchants.VippsNo.Msn;

        var during = new[] { "capture", "cancel", "refund" }.Select(endpoint => simulator.Faults.Decide(endpoint, Msn, "lt-ref").Failure).ToList();
        var queries = new[] { "create", "get", "events", "token" }.Select(endpoint => simulator.Faults.Decide(endpoint, Msn, "lt-ref")).ToList();
        simulator.AdvanceClock(TimeSpan.FromSeconds(91));
        var after = simulator.Faults.Decide("capture", Msn, "lt-ref");

        Assert.All(during, rule => Assert.Equal((FaultKind.Error, 503), (rule!.Kind, rule.Status)));
        Assert.All(queries, decision => Assert.Same(FaultDecision.None, decision));
        Assert.Same(FaultDecision.None, after);
    }

    [Fact]
    public void Late_vend_reports_are_counted_as_delivered_but_not_charged_per_currency()
    {
        var records = new List<SaleRecord>
        {
            Late("s1", "NOK", 7900),
            Late("s2", "NOK", 2500),
            Late("s3", "DKK", 1200),
            Refused("s4", "DKK", "sale_closed", 1200),
            Refused("s5", "NOK", LoadHarness.VendReportTooLate, 0),
        };
        var report = new LoadReport { Run = new RunInfo() };

        ObservePhase.Summarize(report, records, new Observation(records, [], [], new HashSet<string>()));

        Assert.Equal(5, report.Sales.VendRefused);
        Assert.Equal(3, report.Sales.DeliveredNotCharged);
        Assert.Equal(new Dictionary<string, long> { ["DKK"] = 1200, ["NOK"] = 10400 }, report.Sales.DeliveredNotChargedAmount);
        Assert.Contains("delivered but not charged (vend report refused as too late): 3 sales, DKK 1200 minor units, NOK 10400 minor units", report.ToText(), StringComparison.Ordinal);
    }

    private static SaleRecord Late(string id, string currency, long delivered) => Refused(id, currency, LoadHarness.VendReportTooLate, delivered);

    private static SaleRecord Refused(string id, string currency, string code, long delivered) => new()
    {
        MachineId = "m1",
        MachineSaleId = id,
        MerchantId = currency == "NOK" ? "vippsno" : "mobilepaydk",
        CaptureAtAuthorization = false,
        Scenario = new Scenario(CustomerAction.Approve, MachineAction.Deliver, false),
        Amount = 7900,
        Currency = currency,
        Reference = $"ref-{id}",
        VendRefusal = $"409 {code}",
        VendRefusalCode = code,
        RefusedDeliveredAmount = delivered,
    };
}
