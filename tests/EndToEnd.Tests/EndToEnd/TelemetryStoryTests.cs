using System.Collections;
using System.Diagnostics;
using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Vending.Core.Observability;
using Vending.Vipps.Http;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>Run alone: ActivitySources and meters are process-wide, so no other stack may sell while the figures are read.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry (alone)";
}

/// <summary>
/// One delivered sale through the whole product with OpenTelemetry's in-memory exporters added to the runner the way
/// the Function App adds its exporters (the same sources and meter): the spans a trace is made of, their parents
/// across the queue hop, their attributes, the metric points, and no secret anywhere in them.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryStoryTests
{
    [Fact]
    public async Task A_delivered_sale_is_one_trace_from_the_vend_report_to_the_capture_with_its_metrics_and_no_secret()
    {
        var exported = new LockedList<Activity>();
        var metrics = new List<MetricSnapshot>();
        await using var stack = await ProductStack.StartAsync(new ProductStackOptions
        {
            ConfigureServices = services => services.AddOpenTelemetry()
                .WithTracing(tracing => tracing.AddVendingInstrumentation().AddInMemoryExporter(exported))
                .WithMetrics(m => m.AddVendingInstrumentation().AddInMemoryExporter(metrics)),
        });

        using var machine = await stack.NewMachineAsync("otel");
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(3000))).Reference;
        var poll = machine.LongPollAsync(reference, "Created");
        Assert.Null(stack.Simulator.Approve(reference));
        Assert.Equal("Authorized", (await poll).AssertStatus(HttpStatusCode.OK).State);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");

        // The capture's span ends after Vipps answered and the sale was recorded: wait for it, then read the metrics.
        await ProductStack.WaitUntilAsync(() => exported.Snapshot().Any(s => s.OperationName == "vipps capture"
            && exported.Snapshot().Any(c => c.SpanId == s.ParentSpanId && Tag(c, VendingTelemetry.Tags.SaleReference) == reference)), what: "the capture span");
        await ProductStack.WaitUntilAsync(() => exported.Snapshot().Any(s => s.OperationName == "sale-commands process capture" && Tag(s, VendingTelemetry.Tags.SaleReference) == reference),
            what: "the command span ended");
        // A reconciler pass that ends after the capture records its gauges.
        var passes = stack.Logs.Containing("Reconciler examined").Count;
        await ProductStack.WaitUntilAsync(() => stack.Logs.Containing("Reconciler examined").Count > passes, what: "a reconciler pass after the capture");
        Assert.True(stack.Runner.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000), "metrics flushed");
        var all = exported.Snapshot();

        // The create: server span → sale create (reference, machine, merchant) → storage and the Vipps create.
        var create = Assert.Single(all, s => s.OperationName == "sale create" && Tag(s, VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(machine.MachineId, Tag(create, VendingTelemetry.Tags.MachineId));
        Assert.Equal("vippsno", Tag(create, VendingTelemetry.Tags.MerchantId));
        var createServer = Assert.Single(all, s => s.SpanId == create.ParentSpanId);
        Assert.Equal("Microsoft.AspNetCore", createServer.Source.Name);
        Assert.Equal(ActivityKind.Server, createServer.Kind);
        var inCreate = all.Where(s => s.TraceId == create.TraceId).ToList();
        Assert.Contains(inCreate, s => s.Source.Name.StartsWith("Azure.", StringComparison.Ordinal) && Descends(all, s, create));
        var vippsCreate = Assert.Single(inCreate, s => s.OperationName == "vipps create");
        Assert.Equal(create.SpanId, vippsCreate.ParentSpanId);
        Assert.Equal(ActivityKind.Client, vippsCreate.Kind);
        Assert.Contains(inCreate, s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == vippsCreate.SpanId);

        // The vend report, and across the queue: the command's consumer span is the vend span's child; the capture its child.
        var vend = Assert.Single(all, s => s.OperationName == "sale vend" && Tag(s, VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(machine.MachineId, Tag(vend, VendingTelemetry.Tags.MachineId));
        Assert.Equal("vippsno", Tag(vend, VendingTelemetry.Tags.MerchantId));
        var command = Assert.Single(all, s => s.OperationName == "sale-commands process capture" && Tag(s, VendingTelemetry.Tags.SaleReference) == reference);
        Assert.Equal(ActivityKind.Consumer, command.Kind);
        Assert.Equal(vend.TraceId, command.TraceId);
        Assert.Equal(vend.SpanId, command.ParentSpanId);
        Assert.Equal("sale-commands", Tag(command, VendingTelemetry.Tags.MessagingDestination));
        var capture = Assert.Single(all, s => s.OperationName == "vipps capture" && s.TraceId == vend.TraceId);
        Assert.Equal(command.SpanId, capture.ParentSpanId);
        Assert.Equal("200", Tag(capture, VippsTelemetry.StatusTag));
        Assert.Contains(all, s => s.TraceId == vend.TraceId && s.Source.Name.StartsWith("Azure.", StringComparison.Ordinal) && s.OperationName.Contains("SendMessage", StringComparison.Ordinal));

        // No secret in any span: names, tags, events, links.
        foreach (var span in all)
        {
            var text = $"{span.OperationName} {span.DisplayName} {string.Join(' ', span.TagObjects.Select(t => $"{t.Key}={t.Value}"))} {string.Join(' ', span.Events.Select(e => e.Name))}";
            foreach (var secret in stack.Secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"span {span.OperationName} ({span.Source.Name}) carries a secret");
            }

            Assert.DoesNotContain("Bearer ", text, StringComparison.Ordinal);
        }

        // The metric points of this one sale (nothing else sells while this collection runs).
        Assert.Equal(1, Sum(metrics, SaleMetrics.SalesCreated, (VendingTelemetry.Tags.MerchantId, "vippsno")));
        Assert.Equal(1, Sum(metrics, SaleMetrics.SalesFinal, (VendingTelemetry.Tags.Outcome, "Captured")));
        Assert.Equal(0, Sum(metrics, SaleMetrics.SalesFinal, (VendingTelemetry.Tags.Outcome, "Failed")));
        Assert.Equal(1, HistogramCount(metrics, SaleMetrics.VendReportDelay));
        Assert.Equal(1, HistogramCount(metrics, SaleMetrics.CaptureDelay));
        Assert.Equal(1, Sum(metrics, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "capture"), (VippsTelemetry.StatusTag, 200)));
        Assert.True(Sum(metrics, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "create"), (VippsTelemetry.StatusTag, 201)) + Sum(metrics, VippsTelemetry.CallsName, (VippsTelemetry.OperationTag, "create"), (VippsTelemetry.StatusTag, 200)) >= 1,
            "the create call is counted with its status");
        Assert.True(Sum(metrics, WebhookMetrics.Received, (VendingTelemetry.Tags.Result, "verified")) >= 1, "the simulator's signed webhooks are counted as verified");
        Assert.Equal(0, Sum(metrics, WebhookMetrics.Received, (VendingTelemetry.Tags.Result, "refused")));
        Assert.Equal(0, Sum(metrics, SaleMetrics.CommandsPoisoned));
        Assert.Contains(metrics, m => m.Name == ReconcilerPass.DueName);
        Assert.Contains(metrics, m => m.Name == ReconcilerPass.LagName);
        foreach (var point in metrics.SelectMany(m => m.MetricPoints))
        {
            foreach (var tag in point.Tags)
            {
                Assert.All(stack.Secrets, secret => Assert.False($"{tag.Value}".Contains(secret, StringComparison.Ordinal), $"metric tag {tag.Key} carries a secret"));
            }
        }
    }

    private static string? Tag(Activity span, string name) => span.GetTagItem(name) is { } value ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static bool Descends(IReadOnlyList<Activity> all, Activity span, Activity ancestor)
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

    /// <summary>The counter's total over its points with the given tags (the last snapshot: cumulative temporality).</summary>
    private static long Sum(List<MetricSnapshot> metrics, string name, params (string Key, object Value)[] tags)
    {
        var snapshot = metrics.LastOrDefault(m => m.Name == name);
        return snapshot is null ? 0 : Points(snapshot, tags).Sum(p => p.GetSumLong());
    }

    private static long HistogramCount(List<MetricSnapshot> metrics, string name)
    {
        var snapshot = metrics.LastOrDefault(m => m.Name == name);
        return snapshot is null ? 0 : Points(snapshot, []).Sum(p => p.GetHistogramCount());
    }

    private static IEnumerable<MetricPoint> Points(MetricSnapshot snapshot, (string Key, object Value)[] tags) =>
        snapshot.MetricPoints.Where(point =>
        {
            var pointTags = new Dictionary<string, object?>();
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }

            return tags.All(t => pointTags.TryGetValue(t.Key, out var value) && Equals(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture)));
        });
}

/// <summary>The in-memory exporter's collection, written on the exporting thread and read by the test while it runs.</summary>
internal sealed class LockedList<T> : ICollection<T>
{
    private readonly List<T> _items = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get { lock (_lock) { return _items.Count; } }
    }

    public bool IsReadOnly => false;

    public IReadOnlyList<T> Snapshot()
    {
        lock (_lock)
        {
            return _items.ToArray();
        }
    }

    public void Add(T item)
    {
        lock (_lock)
        {
            _items.Add(item);
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _items.Clear();
        }
    }

    public bool Contains(T item) => Snapshot().Contains(item);

    public void CopyTo(T[] array, int arrayIndex) => Snapshot().ToList().CopyTo(array, arrayIndex);

    public bool Remove(T item)
    {
        lock (_lock)
        {
            return _items.Remove(item);
        }
    }

    public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
