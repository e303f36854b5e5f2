using System.Reflection;
using NetArchTest.Rules;
using Vending.Core.Composition;

namespace Architecture.Tests;

/// <summary>
/// The arrows between Vending.Core's namespaces (docs/core.md, "Layers"): the application (Sales with the ports it owns,
/// Machines' ports, and the use cases on top of Sales: Commands, Reconciliation) uses no infrastructure; infrastructure
/// (Storage, Events) implements the ports of the application and of the operator features and uses no adapter; the
/// operator features and webhook registration use no storage; Observability and Qr know only the domain
/// and the options; only Http (and the composition root) uses Http; nothing in the core uses the composition root; the
/// options (the root namespace) use no feature. No namespace cycles (LayerTests). Each rule also runs over a deliberate
/// violation (Fixtures/LayerViolations.cs) to show it can fail.
/// </summary>
public sealed class CoreLayerTests
{
    private const string Root = "Vending.Core";
    private const string Sales = "Vending.Core.Sales";
    private const string Commands = "Vending.Core.Commands";
    private const string Reconciliation = "Vending.Core.Reconciliation";
    private const string Machines = "Vending.Core.Machines";
    private const string Storage = "Vending.Core.Storage";
    private const string Events = "Vending.Core.Events";
    private const string Webhooks = "Vending.Core.Webhooks";
    private const string Operator = "Vending.Core.Operator";
    private const string Observability = "Vending.Core.Observability";
    private const string Qr = "Vending.Core.Qr";
    private const string Http = "Vending.Core.Http";
    private const string Composition = "Vending.Core.Composition";

    private static readonly Assembly Core = typeof(VendingFunctionApp).Assembly;

    /// <summary>Every namespace of the core below the root (Sales, Operator.Access, ...).</summary>
    private static readonly string[] Features = Core.GetTypes()
        .Select(type => type.Namespace)
        .OfType<string>()
        .Where(ns => ns.StartsWith(Root + ".", StringComparison.Ordinal))
        .Distinct()
        .Order(StringComparer.Ordinal)
        .ToArray();

    /// <summary>A rule: the types of the namespaces <see cref="Scope"/> (each with its sub-namespaces; <see cref="Exact"/>:
    /// the namespaces themselves only; <see cref="AllBut"/>: every namespace of the core but these) must not use
    /// <see cref="Forbidden"/> (each a namespace and everything under it). <see cref="Fixture"/> is the namespace under
    /// Architecture.Tests.Fixtures.Layers where a type breaks it.</summary>
    public sealed record Rule(string[] Scope, string[] Forbidden, string Fixture, bool Exact = false, bool AllBut = false);

    public static readonly IReadOnlyDictionary<string, Rule> Rules = new Dictionary<string, Rule>(StringComparer.Ordinal)
    {
        // Use cases own their ports (ISaleStore, IDueSaleIndex, ISaleCommandQueue, IOutboxDispatcher, IMachineDirectory...)
        // and never see what implements them, nor the operator features and adapters built on them.
        ["the application uses no infrastructure, operator feature, adapter or the composition root"] = new(
            [Sales, Commands, Reconciliation, Machines], [Storage, Events, Webhooks, Operator, Http, Composition], "Application"),

        // Commands and the reconciler are use cases on top of the sale's: Sales records, they drive it.
        ["the sale's use cases and Machines use neither Commands nor Reconciliation"] = new(
            [Sales, Machines], [Commands, Reconciliation], "Sales"),

        // Storage and Events implement the ports of the application and of the operator features (IOperatorAuditLog,
        // IWebhookRegistrationRows...); they know the records those pass, not who calls them.
        ["infrastructure uses no use case built on Sales, adapter or the composition root"] = new(
            [Storage, Events], [Commands, Reconciliation, Http, Composition], "Infrastructure"),

        // The operator features, webhook registration and the outbox's dispatcher own their ports (IOperatorAuditLog,
        // IWebhookRegistrationRows, IPendingOutbox...); Storage implements them, so never the reverse.
        ["the operator features, webhook registration and Events use no storage"] = new(
            [Webhooks, Operator, Events], [Storage], "Features"),

        // Metrics, spans and QR images describe the domain; everything may use them, so they may use nothing above.
        ["Observability and Qr use no other namespace of the core but the options"] = new(
            [Observability, Qr], [.. Features.Where(ns => !Under(ns, Observability) && !Under(ns, Qr))], "Observability"),

        // HTTP adapters are on top: requests, problem answers, MVC. Only the composition root registers them.
        ["only Http and the composition root use Http"] = new(
            [Http, Composition], [Http], "Outside", AllBut: true),

        ["nothing in the core uses the composition root"] = new(
            [Composition], [Composition], "Inside", AllBut: true),

        // VendingOptions is read by every feature, so it may read none.
        ["the options (the root namespace) use no feature"] = new(
            [Root], Features, "Options", Exact: true),
    };

    public static TheoryData<string> RuleNames() => [.. Rules.Keys];

    [Theory]
    [MemberData(nameof(RuleNames))]
    public void The_core_keeps_the_rule(string name)
    {
        var rule = Rules[name];
        var scope = Types.InAssembly(Core).That();
        var selected = rule.AllBut
            ? scope.DoNotResideInNamespaceMatching(Pattern(rule.Scope, rule.Exact))
            : scope.ResideInNamespaceMatching(Pattern(rule.Scope, rule.Exact));

        // The scope is real: a rule over no types would pass whatever the code did.
        Assert.NotEmpty(selected.GetTypes());
        var result = selected.ShouldNot().HaveDependencyOnAny(rule.Forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{name}: {string.Join(", ", Failing(result))} use one of {string.Join(", ", rule.Forbidden)}");
    }

    [Theory]
    [MemberData(nameof(RuleNames))]
    public void The_rule_fails_on_a_type_that_breaks_it(string name)
    {
        var rule = Rules[name];
        var fixture = $"Architecture.Tests.Fixtures.Layers.{rule.Fixture}";

        var result = Types.InAssembly(typeof(CoreLayerTests).Assembly).That().ResideInNamespace(fixture)
            .ShouldNot().HaveDependencyOnAny(rule.Forbidden).GetResult();

        // Exactly the violating type: its neighbour, which uses only what the rule allows, passes.
        Assert.Equal([$"{fixture}.BreaksTheRule"], Failing(result));
        Assert.Contains(Types.InAssembly(typeof(CoreLayerTests).Assembly).That().ResideInNamespace(fixture).GetTypes(),
            type => type.Name == "KeepsTheRule");
    }

    [Fact]
    public void Every_namespace_of_the_core_is_placed_by_a_rule()
    {
        // A new namespace is put into a layer (a rule's scope), not left where no rule looks at what it uses.
        var placed = Rules.Values.Where(rule => !rule.AllBut).SelectMany(rule => rule.Scope)
            .Concat([Http, Composition])
            .ToList();
        Assert.DoesNotContain(Features, ns => !placed.Any(layer => Under(ns, layer)));
        Assert.Contains("Vending.Core.Operator.Access", Features);
    }

    private static bool Under(string ns, string layer) =>
        ns == layer || ns.StartsWith(layer + ".", StringComparison.Ordinal);

    private static string Pattern(IEnumerable<string> namespaces, bool exact) =>
        $"^({string.Join("|", namespaces.Select(ns => ns.Replace(".", "\\.", StringComparison.Ordinal)))}){(exact ? "" : "(\\..+)?")}$";

    private static List<string> Failing(TestResult result) =>
        result.IsSuccessful ? [] : (result.FailingTypeNames ?? []).Order(StringComparer.Ordinal).ToList();
}
