using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Vending.Stack.Clients;

/// <summary>
/// One answer of the machine or operator API as a client saw it: status, text and JSON body (a sale, a list or a
/// problem), headers, how long it took, and which instance behind the front served it. <see cref="NoAnswer"/> when
/// the connection failed or timed out (status 0).
/// </summary>
public sealed class ApiAnswer
{
    public static readonly ApiAnswer NoAnswer = new(0, string.Empty, null);

    public ApiAnswer(HttpStatusCode status, string text, HttpResponseHeaders? headers, TimeSpan elapsed = default)
    {
        Status = status;
        Text = text;
        Headers = headers;
        Elapsed = elapsed;
        // A problem, a sale or a list is JSON; anything else (an empty body, a proxy's HTML) has no JSON body.
        Json = text.Length > 0 && text[0] is '{' or '[' ? JsonDocument.Parse(text).RootElement.Clone() : default;
        Instance = headers is not null && headers.TryGetValues(RoundRobinFront.InstanceHeader, out var values) ? values.FirstOrDefault() : null;
    }

    public HttpStatusCode Status { get; }

    public int StatusCode => (int)Status;

    public bool Ok => StatusCode is >= 200 and < 300;

    public string Text { get; }

    /// <summary>The JSON body; <c>default</c> (ValueKind Undefined) when there is none.</summary>
    public JsonElement Json { get; }

    public bool HasJson => Json.ValueKind != JsonValueKind.Undefined;

    public HttpResponseHeaders? Headers { get; }

    public TimeSpan Elapsed { get; }

    /// <summary>The instance that served this answer (the front's <c>x-vending-instance</c> header); null with one instance.</summary>
    public string? Instance { get; }

    public string Reference => Json.GetProperty("reference").GetString()!;

    public string State => Json.GetProperty("state").GetString()!;

    /// <summary>The problem's <c>code</c>, or null.</summary>
    public string? Code => Str("code");

    /// <summary>A string property of the JSON body, or null when there is none.</summary>
    public string? Str(string name) =>
        Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public long Money(string name) => Json.GetProperty(name).GetInt64();

    /// <summary>Insists on <paramref name="expected"/>; otherwise throws with the whole answer.</summary>
    public ApiAnswer AssertStatus(HttpStatusCode expected)
    {
        if (Status != expected)
        {
            throw new UnexpectedAnswerException($"Expected {(int)expected} but got {(int)Status}: {Text}");
        }

        return this;
    }

    public override string ToString() => $"{(int)Status} {Text}";
}

/// <summary>An answer other than the one a caller insisted on.</summary>
public sealed class UnexpectedAnswerException(string message) : Exception(message);
