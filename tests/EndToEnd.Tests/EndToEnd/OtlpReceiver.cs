using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace VendingFunctions.Tests.EndToEnd;

/// <summary>A span as the app's OTLP exporter sent it (the fields the tests read).</summary>
public sealed record ReceivedSpan(
    string Scope, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind,
    IReadOnlyDictionary<string, string> Attributes, IReadOnlyList<string> EventNames)
{
    public const int KindServer = 2;
    public const int KindClient = 3;
    public const int KindConsumer = 5;

    public string? Tag(string key) => Attributes.TryGetValue(key, out var value) ? value : null;

    /// <summary>Everything of the span a secret could hide in: name, attributes, event names.</summary>
    public string AllText => $"{Name} {string.Join(' ', Attributes.Select(a => $"{a.Key}={a.Value}"))} {string.Join(' ', EventNames)}";
}

/// <summary>One data point of a metric: its attributes and its value (a sum's or gauge's number, a histogram's count).</summary>
public sealed record ReceivedPoint(IReadOnlyDictionary<string, string> Attributes, double Value);

/// <summary>
/// An OTLP/HTTP receiver (protobuf) on loopback: the app's own exporter (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>,
/// <c>OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf</c>) sends its spans and metrics here from its own process, as it
/// would to a collector. Only the few fields the tests assert are decoded (opentelemetry-proto's trace and metrics
/// messages; the field numbers are named where they are read); everything else is skipped by wire type.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly List<ReceivedSpan> _spans = [];
    private readonly Dictionary<string, IReadOnlyList<ReceivedPoint>> _metrics = new(StringComparer.Ordinal);

    private OtlpReceiver(WebApplication app) => _app = app;

    public string Endpoint { get; private set; } = "";

    /// <summary>How many export requests arrived per path (<c>/v1/traces</c>, <c>/v1/metrics</c>, ...).</summary>
    public Dictionary<string, int> Requests { get; } = new(StringComparer.Ordinal);

    /// <summary>The app settings that point the app's OpenTelemetry at this receiver, exporting every quarter second.</summary>
    public IReadOnlyDictionary<string, string?> AppSettings => new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Endpoint,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        // The SDK's standard knobs: batch spans for at most 250 ms, read the meters every 500 ms (cumulative).
        ["OTEL_BSP_SCHEDULE_DELAY"] = "250",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
    };

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.MapPost("/v1/{signal}", receiver.ReceiveAsync);
        await app.StartAsync();
        receiver.Endpoint = app.Urls.First();
        return receiver;
    }

    public IReadOnlyList<ReceivedSpan> Spans
    {
        get { lock (_lock) { return _spans.ToArray(); } }
    }

    /// <summary>The points of the metric's latest export (cumulative temporality: the totals so far); empty when never exported.</summary>
    public IReadOnlyList<ReceivedPoint> Points(string metric)
    {
        lock (_lock)
        {
            return _metrics.TryGetValue(metric, out var points) ? points : [];
        }
    }

    public IReadOnlyCollection<string> MetricNames
    {
        get { lock (_lock) { return _metrics.Keys.ToArray(); } }
    }

    private async Task<IResult> ReceiveAsync(HttpContext context, string signal)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        lock (_lock)
        {
            Requests[signal] = Requests.GetValueOrDefault(signal) + 1;
            if (signal == "traces")
            {
                ReadTraces(body);
            }
            else if (signal == "metrics")
            {
                ReadMetrics(body);
            }
        }

        // An empty ExportServiceResponse: everything accepted.
        return Results.Bytes([], "application/x-protobuf");
    }

    // ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.scope_spans = 2; ScopeSpans.scope = 1, spans = 2.
    private void ReadTraces(byte[] body)
    {
        foreach (var resourceSpans in Wire.Messages(body, 1))
        {
            foreach (var scopeSpans in Wire.Messages(resourceSpans, 2))
            {
                var scope = Wire.Messages(scopeSpans, 1).Select(ScopeName).FirstOrDefault() ?? "";
                foreach (var span in Wire.Messages(scopeSpans, 2))
                {
                    _spans.Add(ReadSpan(scope, span));
                }
            }
        }
    }

    // InstrumentationScope.name = 1.
    private static string ScopeName(byte[] scope) => Wire.Strings(scope, 1).FirstOrDefault() ?? "";

    // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6, attributes = 9, events = 11 (Event.name = 2).
    private static ReceivedSpan ReadSpan(string scope, byte[] span) => new(
        scope,
        Convert.ToHexStringLower(Wire.Messages(span, 1).FirstOrDefault() ?? []),
        Convert.ToHexStringLower(Wire.Messages(span, 2).FirstOrDefault() ?? []),
        Convert.ToHexStringLower(Wire.Messages(span, 4).FirstOrDefault() ?? []),
        Wire.Strings(span, 5).FirstOrDefault() ?? "",
        (int)(Wire.Varints(span, 6).FirstOrDefault()),
        Attributes(span, 9),
        Wire.Messages(span, 11).Select(e => Wire.Strings(e, 2).FirstOrDefault() ?? "").ToList());

    // ExportMetricsServiceRequest.resource_metrics = 1; ResourceMetrics.scope_metrics = 2; ScopeMetrics.metrics = 2.
    // Metric: name = 1, gauge = 5, sum = 7, histogram = 9; each holds data_points = 1.
    private void ReadMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Wire.Messages(body, 1))
        {
            foreach (var scopeMetrics in Wire.Messages(resourceMetrics, 2))
            {
                foreach (var metric in Wire.Messages(scopeMetrics, 2))
                {
                    var name = Wire.Strings(metric, 1).FirstOrDefault() ?? "";
                    var points = new List<ReceivedPoint>();
                    foreach (var number in Wire.Messages(metric, 5).Concat(Wire.Messages(metric, 7)))
                    {
                        points.AddRange(Wire.Messages(number, 1).Select(NumberPoint));
                    }

                    foreach (var histogram in Wire.Messages(metric, 9))
                    {
                        points.AddRange(Wire.Messages(histogram, 1).Select(HistogramPoint));
                    }

                    _metrics[name] = points;
                }
            }
        }
    }

    // NumberDataPoint: attributes = 7, as_double = 4 (fixed64), as_int = 6 (sfixed64).
    private static ReceivedPoint NumberPoint(byte[] point)
    {
        var value = Wire.Fixed64s(point, 6).Select(v => (double)(long)v)
            .Concat(Wire.Fixed64s(point, 4).Select(BitConverter.UInt64BitsToDouble)).FirstOrDefault();
        return new ReceivedPoint(Attributes(point, 7), value);
    }

    // HistogramDataPoint: attributes = 9, count = 4 (fixed64).
    private static ReceivedPoint HistogramPoint(byte[] point) =>
        new(Attributes(point, 9), Wire.Fixed64s(point, 4).FirstOrDefault());

    // KeyValue: key = 1, value = 2; AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4.
    private static Dictionary<string, string> Attributes(byte[] message, int field)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var keyValue in Wire.Messages(message, field))
        {
            var key = Wire.Strings(keyValue, 1).FirstOrDefault() ?? "";
            var any = Wire.Messages(keyValue, 2).FirstOrDefault() ?? [];
            attributes[key] = Wire.Strings(any, 1).FirstOrDefault()
                ?? Wire.Varints(any, 2).Select(b => b != 0 ? "true" : "false").FirstOrDefault()
                ?? Wire.Varints(any, 3).Select(i => ((long)i).ToString(CultureInfo.InvariantCulture)).FirstOrDefault()
                ?? Wire.Fixed64s(any, 4).Select(d => BitConverter.UInt64BitsToDouble(d).ToString(CultureInfo.InvariantCulture)).FirstOrDefault()
                ?? "";
        }

        return attributes;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The protobuf wire format, read field by field (varint, fixed64, length-delimited, fixed32).</summary>
    private static class Wire
    {
        public static IEnumerable<byte[]> Messages(byte[] message, int field) =>
            Fields(message).Where(f => f.Number == field && f.Bytes is not null).Select(f => f.Bytes!);

        public static IEnumerable<string> Strings(byte[] message, int field) =>
            Messages(message, field).Select(b => System.Text.Encoding.UTF8.GetString(b));

        public static IEnumerable<ulong> Varints(byte[] message, int field) =>
            Fields(message).Where(f => f.Number == field && f.WireType == 0).Select(f => f.Value);

        public static IEnumerable<ulong> Fixed64s(byte[] message, int field) =>
            Fields(message).Where(f => f.Number == field && f.WireType == 1).Select(f => f.Value);

        private static List<(int Number, int WireType, ulong Value, byte[]? Bytes)> Fields(byte[] message)
        {
            var fields = new List<(int, int, ulong, byte[]?)>();
            var position = 0;
            while (position < message.Length)
            {
                var tag = ReadVarint(message, ref position);
                var number = (int)(tag >> 3);
                var wireType = (int)(tag & 7);
                switch (wireType)
                {
                    case 0:
                        fields.Add((number, wireType, ReadVarint(message, ref position), null));
                        break;
                    case 1:
                        fields.Add((number, wireType, BitConverter.ToUInt64(message, position), null));
                        position += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(message, ref position);
                        fields.Add((number, wireType, 0, message[position..(position + length)]));
                        position += length;
                        break;
                    case 5:
                        fields.Add((number, wireType, BitConverter.ToUInt32(message, position), null));
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"Unsupported protobuf wire type {wireType} (field {number}).");
                }
            }

            return fields;
        }

        private static ulong ReadVarint(byte[] message, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = message[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return value;
                }
            }
        }
    }
}
