using VendingFunctions.Tests.EndToEnd;

namespace VendingFunctions.Tests.Hostile;

/// <summary>
/// The product stack with no queue polling and no timers: only HTTP requests (ours, and the simulator's webhooks) can
/// change storage, so "the tables are unchanged" means exactly "no request changed anything". Key rotation has no
/// grace period here, so a rotated-out key fails at once.
/// </summary>
public sealed class QuietStack() : ProductStack(new ProductStackOptions
{
    RunnerSettings =
    {
        ["FunctionsHost:RunTriggers"] = "false",
        ["Vending:SecretRotationGraceSeconds"] = "0",
    },
});
