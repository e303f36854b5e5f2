using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Vending.Vipps;

/// <summary>
/// The checks data annotations cannot express, with every failure naming its configuration key
/// (<c>Vipps:Merchants:{id}:ClientSecret</c>) so a broken deployment says at boot which setting is wrong.
/// Data annotations do not descend into the merchant dictionary, so each merchant is validated here.
/// </summary>
internal sealed class VippsOptionsValidator : IValidateOptions<VippsOptions>
{
    public static readonly IReadOnlySet<string> SupportedCurrencies = new HashSet<string>(StringComparer.Ordinal) { "NOK", "DKK", "EUR" };

    private const string Section = VippsOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, VippsOptions options)
    {
        var failures = new List<string>();

        if (options.BaseUrl is null || !options.BaseUrl.IsAbsoluteUri || (options.BaseUrl.Scheme != Uri.UriSchemeHttps && options.BaseUrl.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{Section}:BaseUrl must be an absolute http(s) URL.");
        }
        else if (options.BaseUrl.Scheme == Uri.UriSchemeHttp && !options.BaseUrl.IsLoopback)
        {
            // Bearer tokens, client secrets and subscription keys travel in these requests: plain http only to a
            // simulator on this machine.
            failures.Add($"{Section}:BaseUrl must be https unless it is a loopback address (the local simulator); '{options.BaseUrl.Host}' is not.");
        }

        if (options.AttemptTimeoutSeconds > options.TotalTimeoutSeconds)
        {
            failures.Add($"{Section}:AttemptTimeoutSeconds must not exceed {Section}:TotalTimeoutSeconds.");
        }

        if (options.Merchants.Count == 0)
        {
            failures.Add($"{Section}:Merchants must configure at least one merchant.");
        }

        foreach (var (merchantId, merchant) in options.Merchants)
        {
            var prefix = $"{Section}:Merchants:{merchantId}";
            // The id is part of app setting names in Azure (Vipps__Merchants__{id}__ClientId), and App Service on
            // Linux allows only letters, digits, '.' and '_' there; '_' and '.' would blur the '__' separator.
            if (!merchantId.All(char.IsAsciiLetterOrDigit))
            {
                failures.Add($"{prefix}: a merchant id may hold only ASCII letters and digits (it becomes part of app setting names).");
            }

            if (merchant is null)
            {
                failures.Add($"{prefix} is empty.");
                continue;
            }

            foreach (var (setting, value) in new[]
            {
                ("MerchantSerialNumber", merchant.MerchantSerialNumber), ("ClientId", merchant.ClientId),
                ("ClientSecret", merchant.ClientSecret), ("SubscriptionKey", merchant.SubscriptionKey),
            })
            {
                if (KeyVaultReferences.IsUnresolved(value))
                {
                    // The literal reference would be sent to Vipps as a credential and answered 401 on every call.
                    failures.Add($"{prefix}:{setting} is an unresolved Key Vault reference: check the app identity's Key Vault Secrets User role and that the secret exists, then restart the app (docs/deploy.md).");
                }
            }

            var results = new List<ValidationResult>();
            Validator.TryValidateObject(merchant, new ValidationContext(merchant), results, validateAllProperties: true);
            foreach (var result in results)
            {
                foreach (var member in result.MemberNames.DefaultIfEmpty(""))
                {
                    failures.Add($"{prefix}:{member}: {result.ErrorMessage}");
                }
            }

            for (var i = 0; i < merchant.Currencies.Count; i++)
            {
                if (!SupportedCurrencies.Contains(merchant.Currencies[i]))
                {
                    failures.Add($"{prefix}:Currencies:{i} is '{merchant.Currencies[i]}'; ePayment sells in NOK, DKK or EUR.");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
