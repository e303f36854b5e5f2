using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Vending.Core.Machines;

namespace Vending.Core.Http;

/// <summary>
/// <c>Authorization: Bearer {machineId}.{secret}</c> → the machine. Every failure gets the same 401, so a caller cannot
/// learn whether a machine id exists, is disabled or had its key rotated.
/// </summary>
public sealed class MachineAuthenticator(IMachineDirectory directory, ILogger<MachineAuthenticator> logger)
{
    public const string Challenge = "Bearer realm=\"vending\"";

    private const int MaxApiKeyLength = 512;

    public async Task<Machine> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var apiKey = BearerToken(request);
        var separator = apiKey?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (apiKey is null || separator <= 0 || separator == apiKey.Length - 1)
        {
            logger.LogInformation("Machine call refused: no well-formed bearer api key");
            throw Unauthorized();
        }

        var machine = await directory.AuthenticateAsync(apiKey, cancellationToken).ConfigureAwait(false);
        if (machine is null)
        {
            // The machine id part is not secret and helps operators spot a misconfigured machine; the secret never leaves.
            logger.LogWarning("Machine call refused: api key rejected for claimed machine {ClaimedMachineId}", apiKey[..Math.Min(separator, 64)]);
            throw Unauthorized();
        }

        return machine;
    }

    private static string? BearerToken(HttpRequest request)
    {
        if (request.Headers.Authorization.Count != 1)
        {
            return null;
        }

        var header = request.Headers.Authorization[0];
        const string scheme = "Bearer ";
        if (header is null || header.Length <= scheme.Length || header.Length > scheme.Length + MaxApiKeyLength
            || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header[scheme.Length..].Trim();
        return token.Length == 0 || token.Any(char.IsWhiteSpace) ? null : token;
    }

    private static ApiProblemException Unauthorized() =>
        new(StatusCodes.Status401Unauthorized, ApiErrors.Unauthorized, "A valid machine api key is required.");
}
