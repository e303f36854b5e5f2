using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Vending.Vipps.Tests.Support;

/// <summary>What the client put on the wire, captured per attempt (the same message object may be re-sent).</summary>
internal sealed record RecordedRequest(HttpMethod Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Stands in for Vipps below the typed client's resilience pipeline. The token endpoint answers
/// <c>token-1</c>, <c>token-2</c>, ... (every field a string, as Vipps does); every other call goes to <see cref="Api"/>.
/// </summary>
internal sealed class FakeVippsHandler : HttpMessageHandler
{
    public const string TokenPath = "/accesstoken/get";

    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private int tokenRequests;
    private int apiRequests;

    /// <summary>Answers an API call; the int is the 1-based number of that API call.</summary>
    public Func<RecordedRequest, int, CancellationToken, Task<HttpResponseMessage>> Api { get; set; } =
        (_, _, _) => Task.FromResult(Json(HttpStatusCode.OK, "{}"));

    /// <summary>Answers a token request; the int is the 1-based number of that token request.</summary>
    public Func<RecordedRequest, int, CancellationToken, Task<HttpResponseMessage>> Token { get; set; } =
        (_, number, _) => Task.FromResult(TokenResponse($"token-{number}", expiresInSeconds: 3600));

    public IReadOnlyList<RecordedRequest> Requests => requests.ToArray();

    public IReadOnlyList<RecordedRequest> TokenRequests => Requests.Where(r => r.PathAndQuery == TokenPath).ToList();

    public IReadOnlyList<RecordedRequest> ApiRequests => Requests.Where(r => r.PathAndQuery != TokenPath).ToList();

    /// <summary>Answers API calls with the given responses in order; the last one repeats.</summary>
    public void RespondInOrder(params Func<HttpResponseMessage>[] responses) =>
        Api = (_, number, _) => Task.FromResult(responses[Math.Min(number, responses.Length) - 1]());

    public static HttpResponseMessage Json(HttpStatusCode status, string json, string mediaType = "application/json") =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, MediaTypeHeaderValue.Parse(mediaType)) };

    public static HttpResponseMessage Problem(HttpStatusCode status, int errorCode, string title) => Json(
        status,
        $$"""{"type":"https://httpstatuses.io/{{(int)status}}","title":"{{title}}","status":{{(int)status}},"traceId":"00-abc-def-00","extraDetails":[{"name":"ErrorCode","reason":"{{errorCode}}"}]}""",
        "application/problem+json");

    public static HttpResponseMessage TokenResponse(string token, long expiresInSeconds) => Json(
        HttpStatusCode.OK,
        $$"""{"token_type":"Bearer","expires_in":"{{expiresInSeconds}}","ext_expires_in":"0","expires_on":"1764237600","not_before":"1764234000","resource":"00000002-0000-0000-c000-000000000000","access_token":"{{token}}"}""",
        "application/json; charset=utf-8");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? "" : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>())
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!.PathAndQuery, headers, body);
        requests.Enqueue(recorded);

        var response = recorded.PathAndQuery == TokenPath
            ? await Token(recorded, Interlocked.Increment(ref tokenRequests), cancellationToken)
            : await Api(recorded, Interlocked.Increment(ref apiRequests), cancellationToken);
        response.RequestMessage = request;
        return response;
    }
}
