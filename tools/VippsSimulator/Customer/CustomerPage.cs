using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using static System.Net.WebUtility;
using VippsSimulator.Auth;
using VippsSimulator.Payments;

namespace VippsSimulator.Customer;

/// <summary>
/// The customer's "phone": the page a scanned QR or the landing-page link opens. Plain HTML forms (no script), with
/// data-testid hooks (approve, abort, result) for browser tests.
/// </summary>
public static class CustomerPage
{
    public static void MapCustomerPage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/pay/{token}", (string token, PaymentStore store, PaymentService payments, MerchantDirectory merchants) =>
        {
            var payment = store.FindByToken(token);
            if (payment is null) return NotFound();
            payments.CustomerOpen(payment);
            return Render(payment, merchants, null);
        });

        app.MapPost("/pay/{token}/approve", (string token, PaymentStore store, PaymentService payments, MerchantDirectory merchants) =>
        {
            var payment = store.FindByToken(token);
            if (payment is null) return NotFound();
            var failure = payments.CustomerApprove(payment);
            return Render(payment, merchants, failure ?? "Payment approved");
        });

        app.MapPost("/pay/{token}/abort", (string token, PaymentStore store, PaymentService payments, MerchantDirectory merchants) =>
        {
            var payment = store.FindByToken(token);
            if (payment is null) return NotFound();
            var failure = payments.CustomerAbort(payment);
            return Render(payment, merchants, failure ?? "Payment aborted");
        });
    }

    private static IResult NotFound() =>
        Results.Content("<!doctype html><html><body><p data-testid=\"result\">Unknown payment</p></body></html>", "text/html; charset=utf-8", Encoding.UTF8, 404);

    private static IResult Render(Payment p, MerchantDirectory merchants, string? message)
    {
        PaymentState state;
        lock (p.Sync) state = p.State;
        var brand = merchants.ByMsn(p.Msn)?.Options.Brand ?? "Vipps";
        var html = new StringBuilder();
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">");
        html.Append($"<title>{HtmlEncode(brand)}: pay {HtmlEncode(Format(p.Amount))}</title>");
        // Just enough styling to read like an app screen in demos and screenshots; the test hooks are the data-testids.
        var accent = brand == "MobilePay" ? "#5a78ff" : "#ff5b24";
        html.Append("<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:0 auto;padding:1.5rem;background:#f6f6f6;color:#222}");
        html.Append($"h1{{color:{accent};margin:0 0 1rem}}[data-testid=amount]{{font-size:2rem;font-weight:700;margin:.25rem 0}}");
        html.Append("table{width:100%;border-collapse:collapse;margin:1rem 0;background:#fff}td{padding:.4rem;border-bottom:1px solid #eee}");
        html.Append($"form{{display:inline-block;margin:.5rem .5rem 0 0}}button{{font-size:1.1rem;padding:.7rem 1.6rem;border-radius:2rem;border:2px solid {accent};background:#fff;color:{accent}}}");
        html.Append($"button[data-testid=approve]{{background:{accent};color:#fff}}[data-testid=state]{{font-size:.8rem;color:#777}}</style></head><body>");
        html.Append($"<h1 data-testid=\"brand\">{HtmlEncode(brand)}</h1>");
        html.Append($"<p data-testid=\"amount\">{HtmlEncode(Format(p.Amount))}</p>");
        if (p.Description is not null) html.Append($"<p data-testid=\"description\">{HtmlEncode(p.Description)}</p>");
        if (p.Receipt?["orderLines"] is JsonArray lines)
        {
            html.Append("<table data-testid=\"receipt\">");
            foreach (var line in lines)
            {
                var amount = line?["totalAmount"]?.GetValue<long>() ?? 0;
                html.Append($"<tr><td>{HtmlEncode(line?["name"]?.GetValue<string>() ?? "")}</td><td>{HtmlEncode(line?["unitInfo"]?["quantity"]?.GetValue<string>() ?? "1")}</td>");
                html.Append($"<td>{HtmlEncode(Format(p.Of(amount)))}</td></tr>");
            }
            html.Append("</table>");
        }
        html.Append($"<p data-testid=\"state\">{state}</p>");
        html.Append($"<p data-testid=\"result\">{HtmlEncode(message ?? (state == PaymentState.CREATED ? "Waiting for your approval" : $"Payment {state.ToString().ToLowerInvariant()}"))}</p>");
        if (state == PaymentState.CREATED)
        {
            html.Append($"<form method=\"post\" action=\"/pay/{p.CustomerToken}/approve\"><button type=\"submit\" data-testid=\"approve\">Approve</button></form>");
            html.Append($"<form method=\"post\" action=\"/pay/{p.CustomerToken}/abort\"><button type=\"submit\" data-testid=\"abort\">Abort</button></form>");
        }
        html.Append("</body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8);
    }

    private static string Format(Money m) => $"{(m.Value / 100m).ToString("0.00", CultureInfo.InvariantCulture)} {m.Currency}";
}
