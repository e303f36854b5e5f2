namespace Vending.Core.Operator.Access;

/// <summary>Who may call the operator routes (section <c>Vending:Operator</c>, docs/operator.md "Sign-in and roles").</summary>
public sealed class OperatorAccessOptions
{
    public const string SectionName = "Vending:Operator";

    /// <summary>
    /// True only where something in front of the app authenticates people and strips any <c>x-ms-client-principal</c>
    /// a client sends: App Service Authentication in Azure (infra/main.bicep sets this beside authsettingsV2), the
    /// local runner's sign-in page locally. False (the default): the header is ignored, whoever sent it.
    /// </summary>
    public bool TrustPlatformPrincipal { get; set; }

    /// <summary>The key automation sends as <c>x-functions-key</c> / <c>?code=</c>. In Azure a Key Vault reference; the
    /// local Functions host passes its own <c>FunctionsHost:FunctionKey</c> here when this is unset. Unset: no key is accepted.</summary>
    public string? AutomationKey { get; set; }
}
