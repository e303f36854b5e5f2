using LoadTest;

namespace LoadTest.Tests;

/// <summary>
/// The checker must fire on each broken rule, or the chaos run proves nothing: every test breaks one rule in an
/// otherwise healthy observation and expects exactly that rule, naming the sale.
/// </summary>
public sealed class InvariantsTests
{
    private const string Reference = "lt-ref-0001";

    [Fact]
    public void A_delivered_and_captured_sale_passes()
    {
        var observation = Observe(Delivered(), Row("Captured", captured: 7900), Payment(authorized: 7900, captured: 7900));

        Assert.Empty(Invariants.Check(observation));
    }

    [Fact]
    public void A_released_sale_without_report_passes()
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;

        var observation = Observe(sale, Row("Cancelled", cancelled: 7900), Payment(authorized: 7900, cancelled: 7900));

        Assert.Empty(Invariants.Check(observation));
    }

    [Fact]
    public void Money_captured_without_a_delivery_report_is_named()
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;

        var violation = Assert.Single(Invariants.Check(Observe(sale, Row("Captured", captured: 7900), Payment(authorized: 7900, captured: 7900))));

        Assert.Equal(("captured-equals-delivered", Reference), (violation.Rule, violation.Sale));
        Assert.Contains("without an accepted delivery report", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Capturing_more_than_was_delivered_is_named()
    {
        var sale = Delivered();
        sale.DeliveredAmount = 3500;

        var violations = Invariants.Check(Observe(sale, Row("Captured", captured: 7900, delivered: 3500), Payment(authorized: 7900, captured: 7900)));

        Assert.Contains(violations, v => v.Rule == "captured-equals-delivered" && v.Sale == Reference);
    }

    [Fact]
    public void Two_successful_captures_are_named()
    {
        var violations = Invariants.Check(Observe(Delivered(), Row("Captured", captured: 7900), Payment(authorized: 7900, captured: 7900, captures: 2)));

        Assert.Equal("single-capture", Assert.Single(violations).Rule);
    }

    [Fact]
    public void An_unreleased_remainder_is_reserved_money_at_rest()
    {
        var sale = Delivered();
        sale.DeliveredAmount = 3500;

        var violation = Assert.Single(Invariants.Check(Observe(sale, Row("Captured", captured: 3500, delivered: 3500), Payment(authorized: 7900, captured: 3500, cancelled: 0))));

        Assert.Equal(("no-reserved-at-rest", Reference), (violation.Rule, violation.Sale));
        Assert.Contains("4400 reserved", violation.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Failed")]
    [InlineData("Expired")]
    [InlineData("Cancelled")]
    public void A_final_sale_whose_reservation_vipps_still_holds_is_named(string state)
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;

        var violation = Assert.Single(Invariants.Check(Observe(sale, Row(state), Payment(authorized: 7900))));

        Assert.Equal(("no-reserved-at-rest", Reference), (violation.Rule, violation.Sale));
        Assert.Contains($"final state {state}", violation.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sale_still_open_may_hold_its_reservation()
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;

        var violations = Invariants.Check(Observe(sale, Row("Authorized"), Payment(authorized: 7900)));

        Assert.DoesNotContain(violations, v => v.Rule == "no-reserved-at-rest");
        Assert.Contains(violations, v => v.Rule == "final-in-time");
    }

    [Fact]
    public void Releasing_more_than_the_remainder_is_named()
    {
        var sale = Delivered();
        sale.DeliveredAmount = 3500;

        var violations = Invariants.Check(Observe(sale, Row("Captured", captured: 3500, cancelled: 7900, delivered: 3500), Payment(authorized: 7900, captured: 3500, cancelled: 7900)));

        Assert.Equal("cancelled-is-remainder", Assert.Single(violations).Rule);
    }

    [Fact]
    public void A_sale_left_open_is_named()
    {
        var violations = Invariants.Check(Observe(Delivered(), Row("Settling", pending: 1), Payment(authorized: 7900)));

        Assert.Contains(violations, v => v.Rule == "final-in-time" && v.Detail.Contains("Settling", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dropped_authorization_that_never_converged_is_named()
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;
        var observation = Observe(sale, Row("Created"), Payment(authorized: 7900)) with { DroppedAuthorizedWebhooks = new HashSet<string> { Reference } };

        var violations = Invariants.Check(observation);

        Assert.Contains(violations, v => v.Rule == "dropped-webhook-converged" && v.Sale == Reference);
    }

    [Fact]
    public void Our_books_disagreeing_with_vipps_are_named()
    {
        var violations = Invariants.Check(Observe(Delivered(), Row("Captured", captured: 4000, delivered: 7900), Payment(authorized: 7900, captured: 7900)));

        Assert.Equal("books-match-vipps", Assert.Single(violations).Rule);
    }

    [Fact]
    public void Money_at_vipps_for_a_payment_no_sale_knows_is_named()
    {
        var stray = new VippsPayment("lt-stray-0001", "AUTHORIZED", 7900, 7900, 0, 0, 0, 0);
        var observation = Observe(Delivered(), Row("Captured", captured: 7900), Payment(authorized: 7900, captured: 7900));
        observation = observation with { Payments = [.. observation.Payments, stray] };

        var violation = Assert.Single(Invariants.Check(observation));

        Assert.Equal(("no-stray-money", "lt-stray-0001"), (violation.Rule, violation.Sale));
    }

    [Fact]
    public void A_sale_with_no_row_is_named_by_machine_and_sale_id()
    {
        var sale = Delivered();
        sale.Reference = null;

        var violation = Assert.Single(Invariants.Check(new Observation([sale], [], [], new HashSet<string>())));

        Assert.Equal(("stored", "m1/s0001"), (violation.Rule, violation.Sale));
    }

    [Fact]
    public void A_machine_kept_busy_by_its_previous_sale_is_named()
    {
        var sale = Delivered();
        sale.Reference = null;
        sale.Note = "create answered 409 open_sale_exists: Machine m1 has an open sale (s0000); finish or cancel it first.";

        var violation = Assert.Single(Invariants.Check(new Observation([sale], [], [], new HashSet<string>())));

        Assert.Equal(("machine-blocked", "m1/s0001"), (violation.Rule, violation.Sale));
    }

    [Fact]
    public void Capture_at_authorization_may_capture_without_a_report()
    {
        var sale = Delivered();
        sale.VendAccepted = false;
        sale.DeliveredAmount = 0;
        var row = Row("Captured", captured: 7900) with { CaptureMode = "OnAuthorization" };

        Assert.Empty(Invariants.Check(Observe(sale, row, Payment(authorized: 7900, captured: 7900))));
    }

    private static SaleRecord Delivered() => new()
    {
        MachineId = "m1",
        MachineSaleId = "s0001",
        MerchantId = "vippsno",
        CaptureAtAuthorization = false,
        Scenario = new Scenario(CustomerAction.Approve, MachineAction.Deliver, false),
        Amount = 7900,
        Reference = Reference,
        VendAccepted = true,
        DeliveredAmount = 7900,
    };

    private static StoredSale Row(string state, long captured = 0, long cancelled = 0, long? delivered = null, int pending = 0) =>
        new(Reference, "m1", "s0001", state, "OnDelivery", 7900, 7900, captured, cancelled, 0, delivered ?? captured, pending, captured > 0);

    private static VippsPayment Payment(long authorized, long captured = 0, long cancelled = 0, int? captures = null) =>
        new(Reference, "AUTHORIZED", 7900, authorized, captured, cancelled, 0, captures ?? (captured > 0 ? 1 : 0));

    private static Observation Observe(SaleRecord sale, StoredSale row, VippsPayment payment) =>
        new([sale], [row], [payment], new HashSet<string>());
}
