using System.Diagnostics;
using Vending.Core.Observability;

namespace Vending.Core.Sales;

/// <summary>
/// The spans of the <c>sale-commands</c> queue hop: the producer stamps its span on the message, the consumer continues
/// from it, so one trace runs from the machine's POST to the capture. Here, not in Observability, because it knows the
/// queue's message (<see cref="SaleCommand"/>): Observability depends on the domain only.
/// </summary>
public static class SaleCommandTracing
{
    /// <summary>The command as enqueued: stamped with the current span so the consumer continues the trace.
    /// A retry (already stamped, enqueued from the consumer's span) is stamped with that span.</summary>
    public static SaleCommand Stamp(SaleCommand command) =>
        Activity.Current is { } current ? command with { TraceParent = current.Id } : command;

    /// <summary>
    /// <c>sale-commands process {kind}</c>, a consumer span whose parent is the span that enqueued the command (the
    /// vend report, the webhook or the reconciler), linked to the trigger's own span when there is one.
    /// </summary>
    public static Activity? StartCommand(SaleCommand command, bool poison = false)
    {
        var queue = poison ? QueueNames.SaleCommandsPoison : QueueNames.SaleCommands;
        ActivityContext.TryParse(command.TraceParent, null, isRemote: true, out var parent);
        var links = Activity.Current is { } trigger ? new[] { new ActivityLink(trigger.Context) } : null;
        var activity = VendingTelemetry.Source.StartActivity($"{queue} process {command.Kind}", ActivityKind.Consumer, parent, links: links);
        activity?.SetTag(VendingTelemetry.Tags.SaleReference, command.Reference);
        activity?.SetTag(VendingTelemetry.Tags.CommandKind, command.Kind);
        activity?.SetTag(VendingTelemetry.Tags.CommandAttempt, command.Attempt);
        activity?.SetTag(VendingTelemetry.Tags.MessagingSystem, "azure_queue");
        activity?.SetTag(VendingTelemetry.Tags.MessagingDestination, queue);
        activity?.SetTag(VendingTelemetry.Tags.MessagingOperation, "process");
        return activity;
    }
}
