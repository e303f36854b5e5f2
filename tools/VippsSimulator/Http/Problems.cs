using System.Diagnostics;
using System.Text.Json.Serialization;

namespace VippsSimulator.Http;

/// <summary>One entry of <c>extraDetails</c>: a field name and reason, or <c>ErrorCode</c> and the numeric Vipps code.</summary>
public sealed record ExtraDetail(string Name, string Reason);

/// <summary>The RFC 7807 body Vipps answers errors with (ePayment <c>Problem</c>, Webhooks <c>ProblemDetails</c>).</summary>
public sealed record ProblemBody(
    string Type,
    string Title,
    int Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Detail,
    string Instance,
    string TraceId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<ExtraDetail>? ExtraDetails);

/// <summary>A failed operation: the HTTP status, the Vipps error code (if the docs name one) and field-level details.</summary>
public sealed record VippsError(int Status, string Title, string? Code = null, string? Detail = null, IReadOnlyList<ExtraDetail>? Fields = null)
{
    public static VippsError BadRequest(string code, string title, string? detail = null) => new(400, title, code, detail);

    public static VippsError Validation(IReadOnlyList<ExtraDetail> fields, string? code = null) =>
        new(400, "Bad Request", code, "One or more validation errors occurred.", fields);

    public static VippsError NotFound(string reference) =>
        new(404, "Payment not found", "5090", $"No payment with reference '{reference}' exists for this merchant.");

    public static VippsError Conflict(string code, string title) => new(409, title, code);

    public ProblemBody ToBody(string instance)
    {
        var details = new List<ExtraDetail>();
        if (Fields is not null) details.AddRange(Fields);
        if (Code is not null) details.Add(new ExtraDetail("ErrorCode", Code));
        var traceId = Activity.Current?.Id ?? $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-00";
        return new ProblemBody($"https://httpstatuses.io/{Status}", Title, Status, Detail, instance, traceId, details.Count == 0 ? null : details);
    }
}

public static class ProblemResults
{
    public const string ContentType = "application/problem+json";

    public static IResult ToResult(this VippsError error, HttpContext context) =>
        Results.Json(error.ToBody(context.Request.Path), SimulatorJson.Options, ContentType, error.Status);
}
