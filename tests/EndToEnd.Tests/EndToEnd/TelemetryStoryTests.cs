using System.Net;
using Vending.Core.Observability;
using Vending.Vipps.Http;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>
/// One delivered sale through the whole product with the app exporting over OTLP from its own process, as it would to a
/// collector (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, see <see cref="OtlpReceiver"/>): the spans a trace is made of, their
/// parents across the queue hop, their attributes, the points of the <c>Vending</c> meter's instruments, and no secret
/// anywhere in them. Nothing is added to the app: what it exports here is what its configuration makes it export.
/// </summary>
public sealed class TelemetryStoryTests
{
    [Fact]
    public async Task A_delivered_sale_is_one_trace_from_the_vend_report_to_the_capture_with_its_metrics_and_no_secret()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var options = new ProductStackOptions();
        foreach (var (key, value) in receiver.AppSettings)
        {
            options.RunnerSettings[key] = value;
        }

        await using var stack = await ProductStack.StartAsync(options);

        using var machine = await stack.NewMachineAsync("otel");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(3000))).Reference;
        var poll = machine.LongPollAsync(reference, "Created");
        Assert.Null(stack.Simulator.Approve(reference));
        Assert.Equal("Authorized", (await poll).AssertStatus(HttpStatusCode.OK).State);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");

        // The capture's span ends after Vipps answered and the sale was recorded: wait for it to be exported.
        await ProductStack.WaitUntilAsync(() => receiver.Spans.Any(s => s.Name == "vipps capture"
            && receiver.Spans.Any(c => c.SpanId == s.ParentSpanId && c.Tag(VendingTelemetry.Tags.SaleReference) == reference)), what: "the capture span exported");
        await ProductStack.WaitUntilAsync(() => receiver.Spans.Any(s => s.Name == "sale-commands process capture" && s.Tag(VendingTelemetry.Tags.SaleReference) == reference),
            what: "the command span exported");
        // A reconciler pass that ends after the capture records its gauges; then the next exports carry the final totals.
        var passes = stack.Logs.Containing("Reconciler examined").Count;
        await ProductStack.WaitUntilAsync(() => stack.Logs.Containing("Reconciler examined").Count > passes, what: "a reconciler pass after the capture");
        await ProductStack.WaitUntilAsync(
            () => Sum(receiver, SaleMetrics.SalesFinal, (VendingTelemetry.Tags.Outcome, "Captured")) >= 1 && HistogramCount(receiver, SaleMetrics.CaptureDelay) >= 1
                && Sum(receiver, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "capture"), (VippsTelemetry.StatusTag, 200)) >= 1
                && receiver.Points(ReconcilerPass.DueName).Count > 0 && receiver.Points(ReconcilerPass.LagName).Count > 0,
            what: $"the sale's metric points exported (received: {string.Join(", ", receiver.MetricNames)})");
        var all = receiver.Spans;

        // The create: server span → sale create (reference, machine, merchant) → storage and the Vipps create.
        var create = Assert.Single(all, s => s.Name == "sale create" && s.Tag(VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(machine.MachineId, create.Tag(VendingTelemetry.Tags.MachineId));
        Assert.Equal("vippsno", create.Tag(VendingTelemetry.Tags.MerchantId));
        // The real worker, as in Azure: the Functions host's server span → the worker's invocation span → sale create.
        var invocation = Assert.Single(all, s => s.SpanId == create.ParentSpanId);
        Assert.Equal("Microsoft.Azure.Functions.Worker", invocation.Scope);
        var createServer = Assert.Single(all, s => s.SpanId == invocation.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", createServer.Scope);
        Assert.Equal(ReceivedSpan.KindServer, createServer.Kind);
        var inCreate = all.Where(s => s.TraceId == create.TraceId).ToList();
        Assert.Contains(inCreate, s => s.Scope.StartsWith("Azure.", StringComparison.Ordinal) && Descends(all, s, create));
        var vippsCreate = Assert.Single(inCreate, s => s.Name == "vipps create");
        Assert.Equal(create.SpanId, vippsCreate.ParentSpanId);
        Assert.Equal(ReceivedSpan.KindClient, vippsCreate.Kind);
        Assert.Contains(inCreate, s => s.Scope == "System.Net.Http" && s.ParentSpanId == vippsCreate.SpanId);

        // The vend report, and across the queue: the command's consumer span is the vend span's child; the capture its child.
        var vend = Assert.Single(all, s => s.Name == "sale vend" && s.Tag(VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(machine.MachineId, vend.Tag(VendingTelemetry.Tags.MachineId));
        Assert.Equal("vippsno", vend.Tag(VendingTelemetry.Tags.MerchantId));
        var command = Assert.Single(all, s => s.Name == "sale-commands process capture" && s.Tag(VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(ReceivedSpan.KindConsumer, command.Kind);
        Assert.Equal(vend.TraceId, command.TraceId);
        Assert.Equal(vend.SpanId, command.ParentSpanId);
        Assert.Equal("sale-commands", command.Tag(VendingTelemetry.Tags.MessagingDestination));
        var capture = Assert.Single(all, s => s.Name == "vipps capture" && s.TraceId == vend.TraceId);
        Assert.Equal(command.SpanId, capture.ParentSpanId);
        Assert.Equal("200", capture.Tag(VippsTelemetry.StatusTag));
        Assert.Contains(all, s => s.TraceId == vend.TraceId && s.Scope.StartsWith("Azure.", StringComparison.Ordinal) && s.Name.Contains("SendMessage", StringComparison.Ordinal));

        // No secret in any span: names, attributes, events.
        foreach (var span in all)
        {
            foreach (var secret in stack.Secrets)
            {
                Assert.False(span.AllText.Contains(secret, StringComparison.Ordinal), $"span {span.Name} ({span.Scope}) carries a secret");
            }

            Assert.DoesNotContain("Bearer ", span.AllText, StringComparison.Ordinal);
        }

        // The metric points of this one sale (the app's process sold nothing else).
        Assert.Equal(1, Sum(receiver, SaleMetrics.SalesCreated, (VendingTelemetry.Tags.MerchantId, "vippsno")));
        Assert.Equal(1, Sum(receiver, SaleMetrics.SalesFinal, (VendingTelemetry.Tags.Outcome, "Captured")));
        Assert.Equal(0, Sum(receiver, SaleMetrics.SalesFinal, (VendingTelemetry.Tags.Outcome, "Failed")));
        Assert.Equal(1, HistogramCount(receiver, SaleMetrics.VendReportDelay));
        Assert.Equal(1, HistogramCount(receiver, SaleMetrics.CaptureDelay));
        Assert.Equal(1, Sum(receiver, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "capture"), (VippsTelemetry.StatusTag, 200)));
        Assert.True(Sum(receiver, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "create"), (VippsTelemetry.StatusTag, 201)) + Sum(receiver, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "create"), (VippsTelemetry.StatusTag, 200)) >= 1,
            "the create call is counted with its status");
        Assert.True(Sum(receiver, WebhookMetrics.Received, (VendingTelemetry.Tags.Result, "verified")) >= 1, "the simulator's signed webhooks are counted as verified");
        Assert.Equal(0, Sum(receiver, WebhookMetrics.Received, (VendingTelemetry.Tags.Result, "refused")));
        Assert.Equal(0, Sum(receiver, SaleMetrics.CommandsPoisoned));
        foreach (var name in receiver.MetricNames)
        {
            foreach (var point in receiver.Points(name))
            {
                foreach (var (key, value) in point.Attributes)
                {
                    Assert.All(stack.Secrets, secret => Assert.False(value.Contains(secret, StringComparison.Ordinal), $"metric {name} attribute {key} carries a secret"));
                }
            }
        }
    }

    private static bool Descends(IReadOnlyList<ReceivedSpan> all, ReceivedSpan span, ReceivedSpan ancestor)
    {
        for (var current = span; current is not null; current = all.FirstOrDefault(s => s.SpanId == current.ParentSpanId))
        {
            if (current.ParentSpanId == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The counter's total over its points with the given attributes (the latest export: cumulative temporality).</summary>
    private static long Sum(OtlpReceiver receiver, string name, params (string Key, object Value)[] tags) =>
        (long)Points(receiver, name, tags).Sum(p => p.Value);

    /// <summary>How many values the histogram recorded (the latest export: cumulative temporality).</summary>
    private static long HistogramCount(OtlpReceiver receiver, string name) => (long)Points(receiver, name, []).Sum(p => p.Value);

    private static IEnumerable<ReceivedPoint> Points(OtlpReceiver receiver, string name, (string Key, object Value)[] tags) =>
        receiver.Points(name).Where(point => tags.All(t =>
            point.Attributes.TryGetValue(t.Key, out var value) && value == Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture)));
}
