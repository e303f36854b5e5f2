using System.Collections.Concurrent;

namespace VendingFunctions.Tests.Contract;

/// <summary>One answer as a client saw it.</summary>
public sealed record RecordedResponse(string Method, string Path, int Status, string? MediaType, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public override string ToString() => $"{Method} {Path} -> {Status} {MediaType}";
}

/// <summary>
/// Keeps every answer that passes through its handlers (status, content type, body), so a test fixture can check
/// them all against <c>docs/openapi.yaml</c> when it is done. The body is buffered and handed on unchanged.
/// </summary>
public sealed class ResponseRecorder
{
    private readonly ConcurrentQueue<RecordedResponse> _responses = new();

    public IReadOnlyList<RecordedResponse> Responses => _responses.ToArray();

    /// <summary>A handler for a new HttpClient: records, then passes the answer on.</summary>
    public DelegatingHandler Handler() => new RecordingHandler(this) { InnerHandler = new SocketsHttpHandler() };

    /// <summary>Every disagreement between what was recorded and the document (empty when all conform).</summary>
    public IReadOnlyList<string> Violations(OpenApiDocument document) =>
        Responses.SelectMany(r => document.Check(r.Method, r.Path, r.Status, r.MediaType, r.Body, r.Headers)).Distinct().ToList();

    private sealed class RecordingHandler(ResponseRecorder recorder) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            // Buffer so the caller can still read it; the recorder keeps its own copy as text.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var headers = response.Headers.Concat(response.Content.Headers)
                .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
            recorder._responses.Enqueue(new RecordedResponse(
                request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, headers));
            return response;
        }
    }
}
