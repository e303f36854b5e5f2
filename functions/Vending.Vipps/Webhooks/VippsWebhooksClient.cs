using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Vending.Vipps.Authentication;
using Vending.Vipps.Http;

namespace Vending.Vipps.Webhooks;

/// <summary>Webhooks v1 over a typed HttpClient; see <see cref="IVippsWebhooksClient"/>.</summary>
internal sealed class VippsWebhooksClient(
    HttpClient httpClient,
    IVippsAccessTokenProvider tokens,
    IOptions<VippsOptions> options,
    ILogger<VippsWebhooksClient> logger) : IVippsWebhooksClient
{
    private const string Webhooks = "webhooks/v1/webhooks";

    private readonly VippsRequestSender sender = new(httpClient, tokens, options.Value, logger);

    /// <summary>
    /// Not retried on a transient failure (the API takes no idempotency key, and a lost answer may hide a
    /// registration that happened): list the registrations before registering again.
    /// </summary>
    public Task<WebhookRegistration> RegisterAsync(string merchant, string url, IReadOnlyList<string> events, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentNullException.ThrowIfNull(events);
        return sender.SendAsync<WebhookRegistration>(
            merchant, new VippsRequest(HttpMethod.Post, Webhooks, "register-webhook", new RegisterRequest(url, events)), cancellationToken);
    }

    public async Task<IReadOnlyList<WebhookInfo>> ListAsync(string merchant, CancellationToken cancellationToken)
    {
        var list = await sender.SendAsync<ListResponse>(merchant, new VippsRequest(HttpMethod.Get, Webhooks, "list-webhooks"), cancellationToken).ConfigureAwait(false);
        return list.Webhooks ?? [];
    }

    public Task DeleteAsync(string merchant, Guid id, CancellationToken cancellationToken) =>
        sender.SendAsync(merchant, new VippsRequest(HttpMethod.Delete, $"{Webhooks}/{id:D}", "delete-webhook"), cancellationToken);

    internal sealed record RegisterRequest(string Url, IReadOnlyList<string> Events);

    internal sealed record ListResponse(IReadOnlyList<WebhookInfo>? Webhooks);
}
