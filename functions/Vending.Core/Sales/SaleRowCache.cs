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
    }
}
