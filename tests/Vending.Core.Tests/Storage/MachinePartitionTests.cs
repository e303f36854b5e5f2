using Azure.Data.Tables;
using Vending.Core.Sales;
using Vending.Core.Storage;
using Vending.Core.Tests.Sales;
using Vending.Core.Tests.Service;

namespace Vending.Core.Tests.Storage;

/// <summary>The machine partition of the <c>Sales</c> table: the create is one transaction (open marker, claim, listing
/// row, state row, first history row), "one open sale per machine" and the replays hold on it.</summary>
[Collection(nameof(AzuriteCollection))]
public class MachinePartitionTests(AzuriteFixture azurite)
{
    private static string NewMachine() => "m-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>A sale of <paramref name="machine"/> under <paramref name="machineSaleId"/>, as the service proposes one.</summary>
    private static Sale SaleOf(string machine, string machineSaleId, Sale? template = null, int secondsAfterStart = 0) =>
        (template ?? SaleExamples.New()) with
        {
            Reference = SaleReferences.New(machine),
            MachineId = machine,
            MachineSaleId = machineSaleId,
            CreatedAt = SaleExamples.Start.AddSeconds(secondsAfterStart),
        };

    private List<string> RowKeysOf(string machine) =>
        azurite.Table(TableNames.Sales).Query<TableEntity>(row => row.PartitionKey == machine).Select(row => row.RowKey).ToList();

    [Fact]
    public async Task A_create_writes_the_machines_rows_and_the_sales_first_rows_in_one_transaction()
    {
        var machine = NewMachine();
        var log = new RequestLog();
        var tables = azurite.Tables(log);
        foreach (var name in new[] { TableNames.Sales, TableNames.OpenSales, TableNames.SalesByDay })
        {
            await tables.GetAsync(name, default); // the table checks, once per process
        }

        var instance = new StoreInstance(tables, TimeProvider.System);
        // The previous sale is over (captured after its vend): the machine is free.
        var previous = await instance.Recorder.CreateAsync(SaleOf(machine, "s1", SaleExamples.Captured()), default);
        Assert.Equal(CreationOutcome.Created, previous.Outcome);
        log.Clear();

        var sale = SaleOf(machine, "s2", secondsAfterStart: 1);
        var created = await instance.Recorder.CreateAsync(sale, default);

        Assert.Equal((CreationOutcome.Created, sale.Reference), (created.Outcome, created.Reference));
        // This instance wrote the open marker and saw the previous sale end: no read. One transaction in Sales, the
        // first due row (OpenSales) beside it and the all-machines listing (SalesByDay) after it.
        Assert.Equal(3, log.Requests.Count);
        Assert.Single(log.Requests, request => request.StartsWith("POST /$batch 202", StringComparison.Ordinal));
        Assert.Single(log.Requests, request => request.StartsWith("PUT /OpenSales(", StringComparison.Ordinal));
        Assert.Single(log.Requests, request => request.StartsWith("PUT /SalesByDay(", StringComparison.Ordinal));
        var rows = RowKeysOf(machine);
        Assert.Contains("open", rows);
        Assert.Contains("id-s2", rows);
        Assert.Contains(SaleEntities.ListingRowKey(sale.CreatedAt, sale.Reference), rows);
        Assert.Contains($"s-{sale.Reference}", rows);
        Assert.Contains($"s-{sale.Reference}-h-000001", rows);
        var open = azurite.Table(TableNames.Sales).GetEntity<TableEntity>(machine, "open").Value;
        Assert.Equal((sale.Reference, "s2"), (open.GetString("Reference"), open.GetString("MachineSaleId")));
    }

    [Fact]
    public async Task A_retried_create_maps_to_the_same_sale_on_any_instance()
    {
        var machine = NewMachine();
        var first = await azurite.Store().Recorder.CreateAsync(SaleOf(machine, "s1"), default);

        var sameInstanceless = await azurite.Store().Recorder.CreateAsync(SaleOf(machine, "s1"), default);

        Assert.Equal(CreationOutcome.Created, first.Outcome);
        Assert.Equal((CreationOutcome.Replay, first.Reference), (sameInstanceless.Outcome, sameInstanceless.Reference));
        Assert.Single(RowKeysOf(machine), key => key.StartsWith("t-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_replay_of_an_older_sale_is_told_by_its_claim_even_after_the_machine_moved_on()
    {
        var machine = NewMachine();
        var store = azurite.Store();
        var older = await store.Recorder.CreateAsync(SaleOf(machine, "s1", SaleExamples.Captured()), default);
        await store.Recorder.CreateAsync(SaleOf(machine, "s2", secondsAfterStart: 1), default);

        // s2 is open and occupies the machine; s1 again is a replay of the finished sale, not a refusal.
        var again = await azurite.Store().Recorder.CreateAsync(SaleOf(machine, "s1", secondsAfterStart: 2), default);

        Assert.Equal((CreationOutcome.Replay, older.Reference), (again.Outcome, again.Reference));
    }

    [Fact]
    public async Task A_second_sale_while_one_is_open_is_refused_and_nothing_of_it_is_written()
    {
        var machine = NewMachine();
        var store = azurite.Store();
        var first = await store.Recorder.CreateAsync(SaleOf(machine, "s1"), default);
        var rowsBefore = RowKeysOf(machine);

        var second = SaleOf(machine, "s2", secondsAfterStart: 1);
        var refused = await store.Recorder.CreateAsync(second, default);

        Assert.Equal((CreationOutcome.OpenSaleExists, first.Reference, "s1"), (refused.Outcome, refused.Reference, refused.OpenMachineSaleId));
        Assert.Equal(rowsBefore, RowKeysOf(machine));
        Assert.Null(await store.Store.FindByMachineSaleIdAsync(machine, "s2", default));
        Assert.Null(await store.GetAsync(second.Reference, default));
    }

    [Fact]
    public async Task A_new_sale_after_the_previous_one_ended_is_listed_newest_first()
    {
        var machine = NewMachine();
        var store = azurite.Store();
        var first = await store.Recorder.CreateAsync(SaleOf(machine, "s1", SaleExamples.Captured()), default);
        var second = await store.Recorder.CreateAsync(SaleOf(machine, "s2", secondsAfterStart: 1), default);

        var listing = await store.Store.ListByMachineAsync(machine, 10, default);

        Assert.Equal([second.Reference, first.Reference], listing.Select(entry => entry.Reference));
        Assert.Equal(["s2", "s1"], listing.Select(entry => entry.MachineSaleId));
    }

    [Fact]
    public async Task Racing_creates_of_one_machine_on_two_instances_let_exactly_one_win()
    {
        var machine = NewMachine();
        // The previous sale is over, so every create may try; the open marker's ETag lets one through.
        await azurite.Store().Recorder.CreateAsync(SaleOf(machine, "s0", SaleExamples.Captured()), default);
        var instances = new[] { azurite.Store(), azurite.Store() };

        var results = await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            instances[i % 2].Recorder.CreateAsync(SaleOf(machine, $"s{i}", secondsAfterStart: i), default)));

        var winner = Assert.Single(results, result => result.Outcome == CreationOutcome.Created);
        Assert.All(results.Where(result => result != winner), result =>
            Assert.Equal((CreationOutcome.OpenSaleExists, winner.Reference), (result.Outcome, result.Reference)));
        Assert.Equal(2, (await instances[0].Store.ListByMachineAsync(machine, 10, default)).Count);
        Assert.Equal(2, RowKeysOf(machine).Count(key => key.StartsWith("id-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_create_whose_transaction_landed_but_lost_its_answer_is_created_not_a_replay()
    {
        var machine = NewMachine();
        var replay = new ReplayFirstBatch { Armed = true };
        var store = azurite.Store(null, replay);
        var sale = SaleOf(machine, "s1");

        var created = await store.Recorder.CreateAsync(sale, default);

        // The second send of the same transaction conflicted on the claim, which carries this call's claim id.
        Assert.True(replay.Replayed);
        Assert.Equal((CreationOutcome.Created, sale.Reference), (created.Outcome, created.Reference));
        Assert.Equal(sale.Reference, created.Stored!.Sale.Reference);
        Assert.Single(RowKeysOf(machine), key => key.StartsWith("t-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Racing_service_creates_of_one_machine_with_other_machine_sale_ids_get_open_sale_exists()
    {
        var machine = CoreHarness.Machine();
        var (one, two) = (new CoreHarness(azurite), new CoreHarness(azurite));

        var attempts = await Task.WhenAll(
            Attempt(one, CoreHarness.Request("s-1")),
            Attempt(two, CoreHarness.Request("s-2")));

        Assert.Single(attempts, attempt => attempt.Created);
        Assert.Single(attempts, attempt => attempt.Code == "open_sale_exists");

        async Task<(bool Created, string? Code)> Attempt(CoreHarness core, CreateSaleRequest request)
        {
            try
            {
                return ((await core.Service.CreateAsync(machine, request, default)).Created, null);
            }
            catch (SaleException refused)
            {
                return (false, refused.Code);
            }
        }
    }

    [Fact]
    public async Task A_machine_retrying_after_a_lost_answer_gets_the_same_sale_from_another_instance()
    {
        var machine = CoreHarness.Machine();
        var first = await new CoreHarness(azurite).Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);

        // The answer never reached the machine; its retry lands on an instance that has seen nothing of it.
        var retry = await new CoreHarness(azurite).Service.CreateAsync(machine, CoreHarness.Request("s-1"), default);

        Assert.True(first.Created);
        Assert.False(retry.Created);
        Assert.Equal(first.Sale.Reference, retry.Sale.Reference);
        Assert.Equal(first.Sale.Amount, retry.Sale.Amount);
    }

    [Theory]
    [InlineData("nobody-knows-this")]
    [InlineData("vm-01-AAAAAAAAAAAAAAAA")]       // our shape but upper case
    [InlineData("vm-01-aaaaaaaaaaaaaaa1")]       // '1' is not in the alphabet
    [InlineData("x-aaaaaaaaaaaaaaaa")]           // machine id too short
    [InlineData("vm_01-aaaaaaaaaaaaaaaa")]       // '_' cannot be in a machine id
    [InlineData("m-nosuchmachine-aaaaaaaaaaaaaaaa")] // our shape, no such sale
    public async Task A_webhook_whose_reference_is_not_one_of_our_sales_is_recorded_as_unmatched(string reference)
    {
        var core = new CoreHarness(azurite);

        var outcome = await core.Service.RecordWebhookAsync("vippsno", CoreHarness.Event(reference, "AUTHORIZED"), default);

        Assert.Equal(WebhookOutcome.UnknownReference, outcome);
        Assert.Contains(azurite.Table(TableNames.UnmatchedWebhooks).Query<TableEntity>(entity => entity.PartitionKey == "vippsno"),
            entity => entity.GetString("Reference") == reference);
        Assert.Null(await core.Store.GetAsync(reference, default));
        Assert.Empty(await core.Store.GetHistoryAsync(reference, default));
    }

    [Theory]
    [InlineData("vm-01-abcdefghijklmnop", true, "vm-01")]
    [InlineData("abc-234567abcdefghij", true, "abc")]
    [InlineData("a-b-c-abcdefghijklmnop", true, "a-b-c")]
    [InlineData("vm-01abcdefghijklmnop", false, "")]
    [InlineData("vm-01-abcdefghijklmno", false, "")]
    [InlineData("", false, "")]
    public void A_reference_names_its_machine_or_is_not_ours(string reference, bool ours, string machine)
    {
        Assert.Equal((ours, machine), (SaleReferences.TryMachineOf(reference, out var found), found));
    }

    [Fact]
    public void A_new_reference_parses_back_to_its_machine_and_the_outbox_rows_sit_in_the_sales_range()
    {
        var reference = SaleReferences.New("vm-7");

        Assert.True(SaleReferences.TryMachineOf(reference, out var machine));
        Assert.Equal("vm-7", machine);
        Assert.Equal(SaleEntities.Partition(reference), Vending.Core.Storage.OutboxRows.Partition(reference));
        Assert.StartsWith(SaleEntities.RowPrefix(reference), Vending.Core.Storage.OutboxRows.RowKey(reference, 1), StringComparison.Ordinal);
        Assert.StartsWith(SaleEntities.RowPrefix(reference), SaleEntities.HistoryRowKey(reference, 1), StringComparison.Ordinal);
    }
}
