using Moq;
using Vending.Core.Machines;
using Vending.Core.Operator;
using Vending.Core.Sales;
using Vending.Core.Tests.Storage;

namespace Vending.Core.Tests.Service;

/// <summary>The operator's reconciliation report over the real tables (Azurite).</summary>
[Collection(nameof(AzuriteCollection))]
public class ReconciliationReportTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_report_reads_every_open_sale_not_only_the_first_batch()
    {
        var core = new CoreHarness(azurite);
        var references = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            references.Add((await core.Service.CreateAsync(CoreHarness.Machine(), CoreHarness.Request(), default)).Sale.Reference);
        }

        // A batch far smaller than the list (other tests' sales share it): several pages are needed.
        var open = (await core.Due.ListAsync(100_000, null, default)).Select(entry => entry.Reference).Distinct().Count();
        var options = new VendingOptions { PublicBaseUrl = new Uri("http://127.0.0.1:7072"), ReconcileBatchSize = Math.Max(2, open / 5 + 1) };
        Assert.True(options.ReconcileBatchSize < open);
        var machines = new Mock<IMachineDirectory>();
        machines.Setup(m => m.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);
        core.Time.Advance(SaleService.PaymentLifetime + TimeSpan.FromMinutes(2));
        var queries = new OperatorSaleQueries(new Vending.Core.Storage.MachineSaleIndex(azurite.Tables()), core.Store, core.Due, machines.Object,
            Microsoft.Extensions.Options.Options.Create(options), core.Time);

        var report = await queries.ReconcileAsync(10, default);

        Assert.True(report.OpenSalesExamined >= open);
        foreach (var reference in references)
        {
            Assert.Equal("created_past_expiry", Assert.Single(report.Items, item => item.Reference == reference).Reason);
        }
    }
}
