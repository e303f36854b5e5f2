using System.Collections.Concurrent;

namespace Vending.Core.Machines;

/// <summary>What authentication needs of a <c>Machines</c> row: the machine and its key hashes (never a key).</summary>
internal sealed record MachineAuthRow(Machine Machine, string? SecretHash, string? PreviousSecretHash, DateTimeOffset? PreviousValidUntil);

/// <summary>
/// The <c>Machines</c> rows this instance read for authentication, kept for at most <see cref="Bound"/>, so a machine's
/// API calls do not read storage every time. It caches the row, not a verdict: every call still compares its key with
/// the hashes (and the grace period with the clock), so a wrong key is never let in by the cache. Only an acceptance is
/// answered from it; a refusal is always re-checked against storage (a key just rotated on another instance works at once).
/// The instance that rotates, disables or enables invalidates at once (<see cref="Invalidate"/>); other instances see
/// the change within <see cref="Bound"/>.
/// </summary>
internal sealed class MachineAuthCache(TimeProvider time)
{
    /// <summary>How stale another instance's view of a machine may be (documented in docs/operator.md and docs/core.md).</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    // Only rows of machines that exist are kept, so this is bounded by the fleet; the cap guards against surprises.
    private const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, Entry> _rows = new(StringComparer.Ordinal);
    private long _invalidations;

    /// <summary>Taken before a storage read and handed to <see cref="Put"/>: a row read before an invalidation that
    /// raced with it is not kept (it may predate the change).</summary>
    public long Stamp => Interlocked.Read(ref _invalidations);

    public int Count => _rows.Count;

    public bool TryGet(string machineId, out MachineAuthRow row)
    {
        if (_rows.TryGetValue(machineId, out var entry) && time.GetUtcNow() - entry.ReadAt < Bound)
        {
            row = entry.Row;
            return true;
        }

        row = null!;
        return false;
    }

    public void Put(string machineId, MachineAuthRow row, long stamp, DateTimeOffset readAt)
    {
        if (_rows.Count >= MaxEntries)
        {
            _rows.Clear();
        }

        _rows[machineId] = new Entry(row, readAt);
        if (Stamp != stamp)
        {
            // An invalidation ran while this row was being read: the row may be older than the change.
            _rows.TryRemove(machineId, out _);
        }
    }

    public void Invalidate(string machineId)
    {
        Interlocked.Increment(ref _invalidations);
        _rows.TryRemove(machineId, out _);
    }

    private sealed record Entry(MachineAuthRow Row, DateTimeOffset ReadAt);
}
