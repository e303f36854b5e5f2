using System.Text.Json;
using Microsoft.Extensions.Options;
using VippsSimulator.Hosting;
using VippsSimulator.Http;

namespace VippsSimulator.Webhooks;

/// <summary>Webhooks v1: register (201 id + secret), list, delete (204).</summary>
public static class WebhookEndpoints
{
    public sealed record RegisterView(Guid Id, string Secret);
    public sealed record WebhookView(Guid Id, string Url, IReadOnlyList<string> Events);
    public sealed record QueryView(IReadOnlyList<WebhookView> Webhooks);

    public static void MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/webhooks/v1/webhooks");

        group.MapPost("", (HttpContext context, VippsRequestPipeline pipeline, WebhookRegistry registry, IOptions<SimulatorOptions> options) =>
            pipeline.Run(context, "webhooks", null, msnRequired: false, async merchant =>
            {
                var (body, bodyError) = await RequestBody.Read(context.Request);
                if (bodyError is not null) return bodyError.ToResult(context);
                if (body!.Element is not { } element) return VippsError.Validation([new ExtraDetail("body", "A RegisterRequest body is required.")]).ToResult(context);
                var shape = new JsonShape();
                Uri? url = null;
                var events = new List<string>();
                if (shape.Object(element, "", ["url", "events"], "url", "events"))
                {
                    if (JsonShape.Has(element, "url", out var u) && shape.String(u, "url") is { } text) url = CheckUrl(shape, text, options.Value.AllowHttpLoopbackWebhooks);
                    if (JsonShape.Has(element, "events", out var e)) events = ReadEvents(shape, e);
                }
                if (shape.HasErrors) return shape.ToError().ToResult(context);
                var registration = registry.TryRegister(merchant.Msn, url!, events, options.Value.Webhooks.MaxRegistrationsPerEvent);
                if (registration is null)
                    return VippsError.Validation([new ExtraDetail("events", $"At most {options.Value.Webhooks.MaxRegistrationsPerEvent} webhooks per event type.")]).ToResult(context);
                return Results.Json(new RegisterView(registration.Id, registration.Secret), SimulatorJson.Options, "application/json", 201);
            }));

        group.MapGet("", (HttpContext context, VippsRequestPipeline pipeline, WebhookRegistry registry) =>
            pipeline.Run(context, "webhooks", null, msnRequired: false, merchant =>
            {
                var views = registry.For(merchant.Msn).Select(r => new WebhookView(r.Id, r.Url.ToString(), r.Events)).ToList();
                return Task.FromResult(Results.Json(new QueryView(views), SimulatorJson.Options, "application/json"));
            }));

        group.MapDelete("/{id}", (HttpContext context, string id, VippsRequestPipeline pipeline, WebhookRegistry registry) =>
            pipeline.Run(context, "webhooks", null, msnRequired: false, merchant =>
            {
                if (!Guid.TryParse(id, out var guid))
                    return Task.FromResult(VippsError.Validation([new ExtraDetail("id", "Must be a UUID.")]).ToResult(context));
                return Task.FromResult(registry.Delete(merchant.Msn, guid)
                    ? Results.NoContent()
                    : new VippsError(404, "Not Found", Detail: $"No webhook {guid} for this merchant.").ToResult(context));
            }));
    }

    /// <summary>HTTPS only, as Vipps; plain http to loopback only when the local-run switch allows it.</summary>
    private static Uri? CheckUrl(JsonShape shape, string text, bool allowHttpLoopback)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http"))
        {
            shape.Fail("url", "Must be an absolute https URL.", "4090");
            return null;
        }
        if (url.Scheme == "http" && !(allowHttpLoopback && (url.IsLoopback || url.Host == "localhost")))
        {
            shape.Fail("url", "The URL must use HTTPS.", "4090");
            return null;
        }
        return url;
    }

    private static List<string> ReadEvents(JsonShape shape, JsonElement element)
    {
        var events = new List<string>();
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() == 0)
        {
            shape.Fail("events", "Must be a non-empty array of event types.");
            return events;
        }
        foreach (var item in element.EnumerateArray())
        {
            var name = shape.String(item, "events[]", oneOf: WebhookRegistry.PaymentEvents);
            if (name is not null && !events.Contains(name)) events.Add(name);
        }
        return events;
    }
}
