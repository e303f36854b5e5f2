using System.Diagnostics;

namespace Vending.Core.Observability;

/// <summary>
/// Spans of a sale's journey. The HTTP server span, the storage calls (Azure SDK) and the Vipps calls are children of
/// these; the queue hop keeps the trace through the command's trace parent (<see cref="Sales.SaleCommandTracing"/>),
/// so one trace runs from the machine's POST to the capture.
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
