using Vending.Core.Observability;
using Vending.Core.Sales;
using Vending.Core.Tests.Sales;

namespace Vending.Core.Tests.Observability;

/// <summary>What a reconciler pass counts as due, reserved past deadline, and its lag (the figures the alerts read).</summary>
public sealed class ReconcilerPassTests
{
    private static readonly VendingOptions Options = new() { VendReportDeadlineSeconds = 120, ExpiryGraceSeconds = 60, CommandStaleSeconds = 120 };

    [Fact]
    public void A_payment_left_created_is_due_after_expiry_plus_grace()
    {
        var sale = SaleExamples.Created();
        var dueAt = sale.ExpiresAt.AddSeconds(60);

        var before = new ReconcilerPass(dueAt.AddSeconds(-1), Options);
        before.Observe(sale);
        Assert.Equal((0, TimeSpan.Zero), (before.Due, before.Lag));

        var after = new ReconcilerPass(dueAt.AddSeconds(30), Options);
        after.Observe(sale);
        Assert.Equal((1, 0, TimeSpan.FromSeconds(30)), (after.Due, after.ReservedOverdue, after.Lag));
    }

    [Fact]
    public void An_authorization_without_vend_report_past_its_deadline_is_money_reserved_overdue()
    {
        var sale = SaleExamples.Authorized();
        var pass = new ReconcilerPass(sale.AuthorizedAt!.Value.AddSeconds(120 + 45), Options);

        pass.Observe(sale);

        Assert.Equal((1, 1, TimeSpan.FromSeconds(45)), (pass.Due, pass.ReservedOverdue, pass.Lag));
    }

    [Fact]
    public void A_command_pending_past_its_stale_time_is_due_but_not_reserved_overdue()
    {
        var sale = SaleExamples.Settling();
        var capture = Assert.Single(sale.Operations, o => o.Status == OperationStatus.Pending);
        var pass = new ReconcilerPass(capture.EnqueuedAt.AddSeconds(120 + 10), Options);

        pass.Observe(sale);

        Assert.Equal((1, 0, TimeSpan.FromSeconds(10)), (pass.Due, pass.ReservedOverdue, pass.Lag));
    }

    [Fact]
    public void A_finished_sale_is_never_due_and_the_lag_is_the_oldest_due()
    {
        var pass = new ReconcilerPass(SaleExamples.Start.AddDays(1), Options);
        Assert.Null(pass.DueAt(SaleExamples.Captured()));

        pass.Observe(SaleExamples.Captured());
        pass.Observe(SaleExamples.Authorized());
        pass.Observe(SaleExamples.Created());

        var authorizedDue = SaleExamples.Authorized().AuthorizedAt!.Value.AddSeconds(120);
        var createdDue = SaleExamples.Created().ExpiresAt.AddSeconds(60);
        var oldest = authorizedDue < createdDue ? authorizedDue : createdDue;
        Assert.Equal((2, 1), (pass.Due, pass.ReservedOverdue));
        Assert.Equal(SaleExamples.Start.AddDays(1) - oldest, pass.Lag);
    }
}
