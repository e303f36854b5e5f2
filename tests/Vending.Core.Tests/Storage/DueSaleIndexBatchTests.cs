using Vending.Core.Sales;
using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

/// <summary>The due index's bulk removal: one entity-group transaction per 100 rows, counted on the wire (Azurite).</summary>
[Collection(nameof(AzuriteCollection))]
public class DueSaleIndexBatchTests(AzuriteFixture azurite)
{
    // Far in the past and apart per test, so no other test's rows fall among these.
    private static readonly DateTimeOffset Base = new(2002, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static async Task<List<DueEntry>> ListedAsync(IDueSaleIndex index, DateTimeOffset upTo, string tag) =>
        (await index.ListDueAsync(upTo, 100_000, default)).Where(entry => entry.Reference.EndsWith(tag, StringComparison.Ordinal)).ToList();

    [Theory]
    [InlineData(1, 1)]
    [InlineData(100, 1)]
    [InlineData(250, 3)]
    public async Task N_rows_are_removed_in_one_request_per_hundred(int rows, int requests)
    {
        var log = new RequestLog();
        var index = new DueSaleIndex(azurite.Tables(log));
        var tag = Guid.NewGuid().ToString("N")[..10];
        var at = Base.AddDays(rows);
        await Parallel.ForEachAsync(Enumerable.Range(0, rows), new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (n, ct) => await index.AddAsync($"r{n:D4}-{tag}", at.AddMilliseconds(n), ct));
        var listed = await ListedAsync(index, at.AddHours(1), tag);
        Assert.Equal(rows, listed.Count);
        log.Clear();

        var removed = await index.RemoveManyAsync(listed, default);

        Assert.Equal(rows, removed);
        Assert.Equal(requests, log.Requests.Count);
        Assert.All(log.Requests, request => Assert.Matches(rows == 1 ? "^DELETE /OpenSales" : "^POST /\\$batch 202", request));
        Assert.Empty(await ListedAsync(index, at.AddHours(1), tag));
    }

    [Fact]
    public async Task A_batch_that_meets_a_row_already_gone_still_removes_the_rest()
    {
        var log = new RequestLog();
        var index = new DueSaleIndex(azurite.Tables(log));
        var tag = Guid.NewGuid().ToString("N")[..10];
        var at = Base.AddDays(-1);
        for (var n = 0; n < 10; n++)
        {
            await index.AddAsync($"g{n}-{tag}", at.AddSeconds(n), default);
        }

        var listed = await ListedAsync(index, at.AddHours(1), tag);
        // Another visit removed one of them after this pass listed it.
        await index.RemoveAsync(listed[4].Reference, listed[4].DueAt, default);
        log.Clear();

        var removed = await index.RemoveManyAsync(listed, default);
        var requests = log.Requests;

        Assert.Equal(9, removed);
        Assert.Empty(await ListedAsync(index, at.AddHours(1), tag));
        // The batch failed on the missing row (404 inside it, nothing applied), then the other nine went in one more.
        Assert.Collection(requests,
            failed => Assert.StartsWith("POST /$batch", failed),
            rest => Assert.StartsWith("POST /$batch 202", rest));
    }

    [Fact]
    public async Task A_row_written_again_since_it_was_listed_is_kept_and_the_rest_removed()
    {
        var index = new DueSaleIndex(azurite.Tables());
        var tag = Guid.NewGuid().ToString("N")[..10];
        var at = Base.AddDays(-2);
        for (var n = 0; n < 5; n++)
        {
            await index.AddAsync($"w{n}-{tag}", at.AddSeconds(n), default);
        }

        var listed = await ListedAsync(index, at.AddHours(1), tag);
        Assert.All(listed, entry => Assert.NotEqual(default, entry.ETag));
        // A step moved its sale onto that very time after the listing: the row is its current one now.
        var rewritten = listed[2];
        await index.AddAsync(rewritten.Reference, rewritten.DueAt, default);

        var removed = await index.RemoveManyAsync(listed, default);

        Assert.Equal(4, removed);
        var left = Assert.Single(await ListedAsync(index, at.AddHours(1), tag));
        Assert.Equal(rewritten.RowKey, left.RowKey);
    }
}
