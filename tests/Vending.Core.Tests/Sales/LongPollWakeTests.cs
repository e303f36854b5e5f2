using Vending.Core.Sales;

namespace Vending.Core.Tests.Sales;

/// <summary>When the long poll wakes (issue 13, latency): a change committed here wakes it at once, and its pause ends
/// when the Vipps poll falls due instead of at the next storage re-read.</summary>
public sealed class LongPollWakeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 20, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_pause_ends_when_the_vipps_poll_falls_due_before_the_storage_reread()
    {
        var (pause, forPoll) = SaleService.WaitPause(Now, Now.AddSeconds(25), Now.AddMilliseconds(900), Now.AddMilliseconds(300));

        Assert.True(forPoll);
        Assert.InRange(pause, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(310));
    }

    [Fact]
    public void Without_a_poll_due_sooner_the_pause_ends_at_the_reread_or_the_deadline()
    {
        Assert.Equal((TimeSpan.FromMilliseconds(900), false), SaleService.WaitPause(Now, Now.AddSeconds(25), Now.AddMilliseconds(900), null));
        Assert.Equal((TimeSpan.FromMilliseconds(900), false), SaleService.WaitPause(Now, Now.AddSeconds(25), Now.AddMilliseconds(900), Now.AddSeconds(3)));
        Assert.Equal((TimeSpan.FromMilliseconds(200), false), SaleService.WaitPause(Now, Now.AddMilliseconds(200), Now.AddMilliseconds(900), Now.AddMilliseconds(500)));
    }

    [Fact]
    public void A_poll_already_due_never_makes_the_wait_spin()
    {
        // Another wait on the same sale holds the poll: this one sleeps until its re-read.
        Assert.Equal((TimeSpan.FromMilliseconds(900), false), SaleService.WaitPause(Now, Now.AddSeconds(25), Now.AddMilliseconds(900), Now));
        Assert.Equal((TimeSpan.FromMilliseconds(900), false), SaleService.WaitPause(Now, Now.AddSeconds(25), Now.AddMilliseconds(900), Now.AddSeconds(-1)));
    }

    [Fact]
    public async Task A_notify_wakes_every_wait_taken_before_it_and_none_taken_after()
    {
        var notifier = new SaleChangeNotifier();
        var first = notifier.NextChangeAsync("sale-1");
        var same = notifier.NextChangeAsync("sale-1");
        var other = notifier.NextChangeAsync("sale-2");

        notifier.Notify("sale-1");
        var after = notifier.NextChangeAsync("sale-1");

        await first.WaitAsync(TimeSpan.FromSeconds(10));
        await same.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(other.IsCompleted);
        Assert.False(after.IsCompleted);
    }
}
