using System.Collections.Concurrent;
using Azure;

namespace Vending.Core.Sales;

/// <summary>A sale's state row as loaded or last written, with the ETag that guards the next write of it.
/// <see cref="DueAt"/>: the time of its row in the due index (null: closed, no row).</summary>
public sealed record StoredSale(Sale Sale, ETag ETag, string? TransitionId, DateTimeOffset? DueAt);

/// <summary>
/// Per instance: the state rows this instance last loaded or wrote, with their ETags, and which outbox events it
/// published. A cached row is a guess that saves a read, never a fact: every write made from it carries its ETag (a
/// stale row fails 412 and is read again), and a refusal or a no-op is answered only after a fresh read
/// (<see cref="Sales.SaleRecorder"/>). Rows another instance changed are simply stale here until then.
/// </summary>
public sealed class SaleRowCache
{
    /// <summary>Enough for every open sale of a large fleet; past it the oldest half is dropped (a miss costs one read).</summary>
    internal const int Capacity = 20_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _clock;

    public StoredSale? TryGet(string reference) =>
        _entries.TryGetValue(reference, out var entry) ? Touch(entry).Stored : null;

    public void Put(StoredSale stored)
    {
        _entries.AddOrUpdate(
            stored.Sale.Reference,
            _ => new Entry(stored, Interlocked.Increment(ref _clock)),
            (_, entry) =>
            {
                lock (entry)
                {
                    entry.Stored = stored;
                    entry.LastUsed = Interlocked.Increment(ref _clock);
                }

                return entry;
            });
        if (_entries.Count > Capacity)
        {
            Trim();
        }
    }

    public void Remove(string reference) => _entries.TryRemove(reference, out _);

    /// <summary>The highest outbox sequence this instance knows to be published for the sale, every earlier one
    /// included (-1: unknown).</summary>
    public long PublishedThrough(string reference)
    {
        if (!_entries.TryGetValue(reference, out var entry))
        {
            return -1;
        }

        lock (entry)
        {
            return entry.PublishedThrough;
        }
    }

    /// <summary>Records events published in sequence order after <paramref name="through"/>'s predecessors; their rows
    /// still say <c>Sent=false</c> until the sale's next write marks them (<see cref="UnmarkedSent"/>).</summary>
    public void Published(string reference, IReadOnlyList<long> sequences)
    {
        if (sequences.Count == 0 || !_entries.TryGetValue(reference, out var entry))
        {
            return;
        }

        lock (entry)
        {
            entry.PublishedThrough = Math.Max(entry.PublishedThrough, sequences[^1]);
            entry.Unmarked.AddRange(sequences.Where(sequence => !entry.Unmarked.Contains(sequence)));
        }
    }

    /// <summary>Every outbox event of the sale through <paramref name="through"/> is published (none pending before it).</summary>
    public void PublishedThroughAll(string reference, long through)
    {
        if (_entries.TryGetValue(reference, out var entry))
        {
            lock (entry)
            {
                entry.PublishedThrough = Math.Max(entry.PublishedThrough, through);
            }
        }
    }

    /// <summary>Outbox rows published but not yet marked sent in storage (written with the sale's next batch).</summary>
    public IReadOnlyList<long> UnmarkedSent(string reference)
    {
        if (!_entries.TryGetValue(reference, out var entry))
        {
            return [];
        }

        lock (entry)
        {
            // One batch holds 100 actions; the rest waits for the following write.
            return entry.Unmarked.Take(40).ToList();
        }
    }

    public void Marked(string reference, IReadOnlyList<long> sequences)
    {
        if (sequences.Count == 0 || !_entries.TryGetValue(reference, out var entry))
        {
            return;
        }

        lock (entry)
        {
            entry.Unmarked.RemoveAll(sequences.Contains);
        }
    }

    /// <summary>This instance wrote the sale's due row at <paramref name="dueAt"/> and got <paramref name="etag"/> back
    /// (the row the sale's state row names after the write that follows).</summary>
    public void DueRowWritten(string reference, DateTimeOffset dueAt, ETag etag)
    {
        if (etag == default || !_entries.TryGetValue(reference, out var entry))
        {
            return;
        }

        lock (entry)
        {
            entry.DueRows[dueAt] = etag;
            entry.LeftBehind.Remove(dueAt);
        }
    }

    /// <summary>The sale's rows this instance left behind (with the ETags they had when it did).</summary>
    public IReadOnlyList<DueEntry> LeftBehindRows(string reference)
    {
        if (!_entries.TryGetValue(reference, out var entry))
        {
            return [];
        }

        lock (entry)
        {
            return entry.LeftBehind.Select(row => new DueEntry(reference, row.Key, DueEntry.KeyFor(reference, row.Key), row.Value)).ToList();
        }
    }

    /// <summary>
    /// A write of this instance moved the sale off its due row at <paramref name="dueAt"/> (ETag-guarded, so the state
    /// row then named another time), and the row was not removed. If this instance wrote that row it knows its ETag:
    /// a later visit of the row finds it stale without reading the sale (<see cref="IsLeftBehind"/>).
    /// </summary>
    public void LeftBehind(string reference, DateTimeOffset dueAt, ETag etag = default)
    {
        if (!_entries.TryGetValue(reference, out var entry))
        {
            return;
        }

        lock (entry)
        {
            if (etag == default && !entry.DueRows.TryGetValue(dueAt, out etag))
            {
                return;
            }

            entry.DueRows.Remove(dueAt);
            entry.LeftBehind[dueAt] = etag;
        }
    }

    /// <summary>
    /// The listed due row is one this instance moved the sale off, unchanged since (same ETag). Nobody can have moved
    /// the sale back onto that time since: every write that names a due time writes its row first (which changes the
    /// ETag), so the row is stale for certain, and removing it guarded by that ETag can never take a current row.
    /// </summary>
    public bool IsLeftBehind(DueEntry row)
    {
        if (row.ETag == default || !_entries.TryGetValue(row.Reference, out var entry))
        {
            return false;
        }

        lock (entry)
        {
            return entry.LeftBehind.TryGetValue(row.DueAt, out var etag) && etag == row.ETag;
        }
    }

    /// <summary>The ETag this instance got when it wrote the sale's due row at <paramref name="dueAt"/> (default: not known).</summary>
    public ETag DueRowETag(string reference, DateTimeOffset dueAt)
    {
        if (!_entries.TryGetValue(reference, out var entry))
        {
            return default;
        }

        lock (entry)
        {
            return entry.DueRows.TryGetValue(dueAt, out var etag) || entry.LeftBehind.TryGetValue(dueAt, out etag) ? etag : default;
        }
    }

    /// <summary>The sale's due row at <paramref name="dueAt"/> is gone.</summary>
    public void DueRowRemoved(string reference, DateTimeOffset dueAt)
    {
        if (_entries.TryGetValue(reference, out var entry))
        {
            lock (entry)
            {
                entry.DueRows.Remove(dueAt);
                entry.LeftBehind.Remove(dueAt);
            }
        }
    }

    internal int Count => _entries.Count;

    private Entry Touch(Entry entry)
    {
        entry.LastUsed = Interlocked.Increment(ref _clock);
        return entry;
    }

    private void Trim()
    {
        var cut = _entries.Values.Select(entry => entry.LastUsed).OrderBy(used => used).ElementAtOrDefault(_entries.Count / 2);
        foreach (var (reference, entry) in _entries)
        {
            if (entry.LastUsed <= cut)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(reference, entry));
            }
        }
    }

    private sealed class Entry(StoredSale stored, long used)
    {
        public StoredSale Stored { get; set; } = stored;
        public long LastUsed { get; set; } = used;
        public long PublishedThrough { get; set; } = stored.Sale.OutboxSequence == 0 ? 0 : -1;
        public List<long> Unmarked { get; } = [];

        /// <summary>Due rows this instance wrote for the sale, by time, with their ETags.</summary>
        public Dictionary<DateTimeOffset, ETag> DueRows { get; } = [];

        /// <summary>Due rows this instance moved the sale off and did not remove, with the ETags they had.</summary>
        public Dictionary<DateTimeOffset, ETag> LeftBehind { get; } = [];
    }
}
