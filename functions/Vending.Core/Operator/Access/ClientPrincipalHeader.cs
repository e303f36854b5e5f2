using System.Text;
using System.Text.Json;

namespace Vending.Core.Operator.Access;

/// <summary>
/// Reads the principal App Service Authentication passes in <c>x-ms-client-principal</c>: base64 of
/// <c>{"auth_typ","name_typ","role_typ","claims":[{"typ","val"}]}</c>. Entra ID puts app roles in <c>roles</c> claims
/// and the user's object id in the <c>objectidentifier</c> claim.
/// </summary>
public static class ClientPrincipalHeader
{
    public const string HeaderName = "x-ms-client-principal";
    private const int MaxHeaderLength = 16_384;
    private const string ObjectIdClaim = "http://schemas.microsoft.com/identity/claims/objectidentifier";
    private const string RoleClaimUri = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";

    /// <summary>The principal, or null when the header is missing, malformed, or carries neither operator role.</summary>
    public static OperatorPrincipal? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > MaxHeaderLength)
        {
            return null;
        }

        try
        {
            var bytes = new byte[header.Length];
            if (!Convert.TryFromBase64String(header.Trim(), bytes, out var written))
            {
                return null;
            }

            using var document = JsonDocument.Parse(bytes.AsMemory(0, written));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("claims", out var claims) || claims.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var nameType = StringOf(root, "name_typ") ?? "name";
            var roleType = StringOf(root, "role_typ") ?? "roles";
            string? name = null, objectId = null, preferred = null;
            var roles = new HashSet<string>(StringComparer.Ordinal);
            foreach (var claim in claims.EnumerateArray())
            {
                var type = StringOf(claim, "typ");
                var value = StringOf(claim, "val");
                if (type is null || value is null)
                {
                    continue;
                }

                if (type == nameType || type == "name") { name ??= value; }
                if (type == "preferred_username") { preferred ??= value; }
                if (type is ObjectIdClaim or "oid") { objectId ??= value; }
                if (type == roleType || type is "roles" or RoleClaimUri) { roles.Add(value); }
            }

            var role = roles.Contains(OperatorPrincipal.OperatorRoleName) ? OperatorRole.Operator
                : roles.Contains(OperatorPrincipal.ViewerRoleName) ? OperatorRole.Viewer
                : (OperatorRole?)null;
            var display = Clip(name ?? preferred ?? objectId);
            return role is null || display is null ? null : new OperatorPrincipal(OperatorCallerKind.User, display, Clip(objectId), role.Value);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The header value for a principal: what the local runner's sign-in injects, as the platform would.</summary>
    public static string Encode(string name, string objectId, string role)
    {
        var json = JsonSerializer.Serialize(new
        {
            auth_typ = "aad",
            name_typ = "name",
            role_typ = "roles",
            claims = new[]
            {
                new { typ = "name", val = name },
                new { typ = ObjectIdClaim, val = objectId },
                new { typ = "roles", val = role },
            },
        });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }

    private static string? StringOf(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    // Names end up in the audit table and the page: bounded, no control characters.
    private static string? Clip(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var clean = new string(value.Where(c => !char.IsControl(c)).Take(200).ToArray()).Trim();
        return clean.Length == 0 ? null : clean;
    }
}
