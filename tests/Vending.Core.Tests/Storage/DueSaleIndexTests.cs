using Vending.Core.Storage;

namespace Vending.Core.Tests.Storage;

[Collection(nameof(AzuriteCollection))]
public class DueSaleIndexTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Only_rows_due_by_now_are_listed_earliest_first_and_a_removed_row_is_gone()
    {
        var index = new DueSaleIndex(azurite.Tables());
        // Far in the past, so no other test's rows come before these (they sort by due time).
        var now = new DateTimeOffset(2001, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var tag = Guid.NewGuid().ToString("N")[..10];
        await index.AddAsync($"late-{tag}", now.AddSeconds(1), default);
        await index.AddAsync($"due-{tag}", now, default);
        await index.AddAsync($"early-{tag}", now.AddSeconds(-30), default);

        var due = (await index.ListDueAsync(now, 1000, default)).Where(entry => entry.Reference.EndsWith(tag, StringComparison.Ordinal)).ToList();

        Assert.Equal([$"early-{tag}", $"due-{tag}"], due.Select(entry => entry.Reference));
        Assert.Equal(now, due[1].DueAt);
        await index.RemoveAsync($"due-{tag}", now, default);
        await index.RemoveAsync($"due-{tag}", now, default); // absent is fine
        Assert.Equal([$"early-{tag}"], (await index.ListDueAsync(now, 1000, default)).Where(entry => entry.Reference.EndsWith(tag, StringComparison.Ordinal)).Select(entry => entry.Reference));
        Assert.Single(await index.ListDueAsync(now.AddSeconds(1), 1000, default), entry => entry.Reference == $"late-{tag}");
    }

    [Fact]
    public async Task A_due_time_read_back_names_the_same_row()
    {
        var index = new DueSaleIndex(azurite.Tables());
        var at = new DateTimeOffset(2001, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(12_345); // finer than a millisecond
        var reference = "ticks-" + Guid.NewGuid().ToString("N")[..10];
        await index.AddAsync(reference, at, default);

        var listed = Assert.Single(await index.ListDueAsync(at.AddSeconds(1), 1000, default), entry => entry.Reference == reference);
        await index.RemoveAsync(reference, listed.DueAt, default);

        Assert.DoesNotContain(await index.ListDueAsync(at.AddSeconds(1), 1000, default), entry => entry.Reference == reference);
    }
}
