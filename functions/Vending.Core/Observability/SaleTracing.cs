using System.Diagnostics;
using Vending.Core.Commands;
using Vending.Core.Machines;
using Vending.Core.Sales;

namespace Vending.Core.Observability;

/// <summary>
/// Spans of a sale's journey. The HTTP server span, the storage calls (Azure SDK) and the Vipps calls are children of
/// these; the queue hop keeps the trace through <see cref="SaleCommand.TraceParent"/>, so one trace runs from the
/// machine's POST to the capture.
/// </summary>
public static class SaleTracing
{
    /// <summary><c>sale create</c>: a machine asks for a sale (under the HTTP server span).</summary>
    public static Activity? StartCreate(Machine machine) =>
        Tag(VendingTelemetry.Source.StartActivity("sale create"), null, machine.MachineId, machine.MerchantId);

    /// <summary>A machine's event on one of its sales (<c>sale vend</c>, <c>sale cancel</c>).</summary>
    public static Activity? StartMachineEvent(string name, string machineId, string reference) =>
        Tag(VendingTelemetry.Source.StartActivity($"sale {name}"), reference, machineId, null);

    /// <summary>Adds what is known of the sale to the current span (after the sale was read or created).</summary>
    public static void Describe(Sale sale)
    {
        if (Activity.Current is { } activity && activity.Source == VendingTelemetry.Source)
        {
            Tag(activity, sale.Reference, sale.MachineId, sale.MerchantId);
        }
    }

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

    private static Activity? Tag(Activity? activity, string? reference, string? machineId, string? merchantId)
    {
        if (activity is null)
        {
            return null;
        }

        if (reference is not null)
        {
            activity.SetTag(VendingTelemetry.Tags.SaleReference, reference);
        }

        if (machineId is not null)
        {
            activity.SetTag(VendingTelemetry.Tags.MachineId, machineId);
        }

        if (merchantId is not null)
        {
            activity.SetTag(VendingTelemetry.Tags.MerchantId, merchantId);
        }

        return activity;
    }
}
