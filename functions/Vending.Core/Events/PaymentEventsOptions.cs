using System.ComponentModel.DataAnnotations;

namespace Vending.Core.Events;

/// <summary>The <c>Events</c> configuration section.</summary>
public sealed class PaymentEventsOptions
{
    public const string Section = "Events";

    /// <summary>Service Bus topic of payment events.</summary>
    [Required]
    public string TopicName { get; set; } = "payment-events";

    /// <summary>JSON-lines file used when no Service Bus namespace is configured; relative paths are resolved
    /// against the content root (the current directory when there is no host).</summary>
    [Required]
    public string LocalSinkPath { get; set; } = ".local/events.jsonl";

    /// <summary>How many open sales one sweep visits; the next sweep continues after the last one visited.</summary>
    [Range(1, 10_000)]
    public int SweepBatchSize { get; set; } = 100;
}
