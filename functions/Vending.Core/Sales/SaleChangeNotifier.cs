using System.Collections.Concurrent;

namespace Vending.Core.Sales;

/// <summary>
/// Wakes long polls in this process when a transition here changes a sale. Changes made by other instances are
/// found by the long poll's periodic storage read instead. No static state: one per container.
/// </summary>
public sealed class SaleChangeNotifier
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiters = new(StringComparer.Ordinal);

    /// <summary>Completes at the next <see cref="Notify"/> for <paramref name="reference"/>. Take it BEFORE reading
    /// the sale, so a change between the read and the wait is not missed.</summary>
    public Task NextChangeAsync(string reference) =>
        _waiters.GetOrAdd(reference, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    public void Notify(string reference)
    {
        if (_waiters.TryRemove(reference, out var waiter))
        {
            waiter.TrySetResult();
        }
    }

    /// <summary>A finished long poll drops its waiter so the map does not grow with sales nobody waits for.
    /// (A concurrent poll on the same sale then falls back to its storage re-read.)</summary>
    public void Forget(string reference, Task waiter)
    {
        if (_waiters.TryGetValue(reference, out var current) && current.Task == waiter && !waiter.IsCompleted)
        {
            _waiters.TryRemove(new KeyValuePair<string, TaskCompletionSource>(reference, current));
        }
    }

    internal int Count => _waiters.Count;
}
