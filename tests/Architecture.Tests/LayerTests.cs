using System.Reflection;
using NetArchTest.Rules;
using Vending.Core.Composition;
using VendingFunctions;

namespace Architecture.Tests;

/// <summary>
/// Who may depend on whom (docs/ARCHITECTURE.md, "Layers"): Vending.Domain on nothing but the BCL; Vending.Vipps on
/// neither the core nor the domain; the core on the Functions worker and ASP.NET Core MVC only in its HTTP adapters;
/// Table Storage only in the storage namespace (and the composition root that creates its client); no
/// namespace cycles in the domain or in the core (the arrows between the core's namespaces: CoreLayerTests). Every rule
/// is also run over deliberate violations (Fixtures/WrongWay.cs) to show it can fail.
/// </summary>
public sealed class LayerTests
{
    private static readonly Assembly Domain = typeof(Vending.Domain.Sales.Sale).Assembly;
    private static readonly Assembly Vipps = typeof(Vending.Vipps.VippsOptions).Assembly;
    private static readonly Assembly Core = typeof(VendingFunctionApp).Assembly;
    private static readonly Assembly FunctionApp = typeof(FunctionAppHost).Assembly;

    /// <summary>Core namespaces that use Azure.Data.Tables outside Vending.Core.Storage: only the composition root, which
    /// creates the client. Every feature's rows (sales, machines, outbox, operator audit, fleet and machine listings,
    /// webhook registrations) are behind a port the feature owns and Storage implements (docs/core.md, "Layers").</summary>
    private static readonly string[] TablesOutsideStorage =
    [
        "Vending.Core.Composition", // ServiceCollectionExtensions.AddStorage: creates the TableServiceClient (infrastructure wiring)
    ];

    [Fact]
    public void The_domain_references_nothing_but_the_base_class_library()
    {
        Assert.Empty(NonBclReferences(Domain));
        Assert.Empty(Failing(Types.InAssembly(Domain).ShouldNot()
            .HaveDependencyOnAny("Vending.Core", "Vending.Vipps", "VendingFunctions", "Azure", "Microsoft.Extensions", "Microsoft.AspNetCore", "Microsoft.Azure").GetResult()));

        // The same check on this test assembly (xunit, NetArchTest, the app) must and does find references.
        Assert.Contains("xunit.core", NonBclReferences(typeof(LayerTests).Assembly));
    }

    [Fact]
    public void The_vipps_client_depends_on_neither_the_core_nor_the_domain()
    {
        var referenced = Vipps.GetReferencedAssemblies().Select(name => name.Name).ToList();
        Assert.DoesNotContain("Vending.Core", referenced);
        Assert.DoesNotContain("Vending.Domain", referenced);
        Assert.Empty(Failing(Types.InAssembly(Vipps).ShouldNot().HaveDependencyOnAny("Vending.Core", "Vending.Domain", "VendingFunctions").GetResult()));
    }

    [Fact]
    public void Only_the_http_adapters_of_the_core_use_the_functions_worker_or_mvc()
    {
        Assert.DoesNotContain(Core.GetReferencedAssemblies(), name => name.Name!.StartsWith("Microsoft.Azure.Functions.Worker", StringComparison.Ordinal));
        // The operator routes' adapter (OperatorApi) is in Http too, so there is no exception.
        Assert.Empty(Failing(Types.InAssembly(Core).That().DoNotResideInNamespace("Vending.Core.Http")
            .ShouldNot().HaveDependencyOnAny("Microsoft.Azure.Functions", "Microsoft.AspNetCore.Mvc").GetResult()));
        // The rule reads real IL: the HTTP adapters do use MVC.
        Assert.NotEmpty(Types.InAssembly(Core).That().ResideInNamespace("Vending.Core.Http").And().HaveDependencyOn("Microsoft.AspNetCore.Mvc").GetTypes());
    }

    [Fact]
    public void Only_storage_namespaces_use_table_storage()
    {
        var tableUsers = Types.InAssembly(Core).That().HaveDependencyOn("Azure.Data.Tables").GetTypes()
            .Select(type => type.Namespace!).Distinct().Order(StringComparer.Ordinal).ToList();
        var allowed = TablesOutsideStorage.Append("Vending.Core.Storage").ToHashSet(StringComparer.Ordinal);

        Assert.DoesNotContain(tableUsers, ns => !allowed.Contains(ns));
        Assert.Contains("Vending.Core.Storage", tableUsers);
        Assert.DoesNotContain(TablesOutsideStorage, ns => !tableUsers.Contains(ns)); // no stale exception
        foreach (var assembly in new[] { Domain, Vipps, FunctionApp })
        {
            Assert.Empty(Failing(Types.InAssembly(assembly).ShouldNot().HaveDependencyOn("Azure.Data.Tables").GetResult()));
        }
    }

    [Fact]
    public void A_dependency_pointing_the_wrong_way_fails_the_rule()
    {
        var result = Types.InAssembly(typeof(LayerTests).Assembly).That().ResideInNamespace("Architecture.Tests.Fixtures.Domain")
            .ShouldNot().HaveDependencyOnAny("Vending.Core", "Azure", "Microsoft").GetResult();

        Assert.Equal(["Architecture.Tests.Fixtures.Domain.ReachesForStorage"], Failing(result));
    }

    [Fact]
    public void The_domain_has_no_namespace_cycles()
    {
        var graph = NamespaceGraph.Of(Domain.Location, "Vending.Domain");

        Assert.Null(NamespaceGraph.FindCycle(graph));
        // The graph is read, not empty: the sales rules use the machine record and the outbox event.
        Assert.Contains("Vending.Domain.Machines", graph["Vending.Domain.Sales"]);
        Assert.Contains("Vending.Domain.Events", graph["Vending.Domain.Sales"]);
    }

    [Fact]
    public void The_core_has_no_namespace_cycles()
    {
        var graph = NamespaceGraph.Reasons(Core.Location, "Vending.Core");

        Assert.True(NamespaceGraph.FindCycles(Edges(graph)).Count == 0, CycleReport(graph));
        // The graph is read, not empty: the HTTP adapters call the sale's use cases, storage implements their ports.
        Assert.Contains("Vending.Core.Sales", graph["Vending.Core.Http"].Keys);
        Assert.Contains("Vending.Core.Sales", graph["Vending.Core.Storage"].Keys);
    }

    [Fact]
    public void A_namespace_cycle_is_found_and_every_cycle_is_reported()
    {
        var path = typeof(LayerTests).Assembly.Location;
        var graph = NamespaceGraph.Of(path, "Architecture.Tests.Fixtures.Cycle");
        const string first = "Architecture.Tests.Fixtures.Cycle.First", second = "Architecture.Tests.Fixtures.Cycle.Second", third = "Architecture.Tests.Fixtures.Cycle.Third";

        Assert.Equal([$"{first} -> {second} -> {first}", $"{first} -> {second} -> {third} -> {first}"], NamespaceGraph.FindCycles(graph));
        Assert.Equal($"{first} -> {second} -> {first}", NamespaceGraph.FindCycle(graph));
        // Without the edges back to First there is none.
        var acyclic = graph.ToDictionary(pair => pair.Key, pair => new SortedSet<string>(pair.Value.Where(to => to != first), StringComparer.Ordinal));
        Assert.Empty(NamespaceGraph.FindCycles(acyclic));
        // The failure message names the types that make each edge of a cycle.
        var report = CycleReport(NamespaceGraph.Reasons(path, "Architecture.Tests.Fixtures.Cycle"));
        Assert.Contains("2 namespace cycle(s)", report, StringComparison.Ordinal);
        Assert.Contains($"{third} -> {first}: UsesFirstToo uses UsesSecond", report, StringComparison.Ordinal);
    }

    private static IReadOnlyDictionary<string, SortedSet<string>> Edges(IReadOnlyDictionary<string, SortedDictionary<string, SortedSet<string>>> reasons) =>
        reasons.ToDictionary(pair => pair.Key, pair => new SortedSet<string>(pair.Value.Keys, StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Every cycle, then each edge on one with the types that make it: what to move to break it.</summary>
    private static string CycleReport(IReadOnlyDictionary<string, SortedDictionary<string, SortedSet<string>>> reasons)
    {
        var cycles = NamespaceGraph.FindCycles(Edges(reasons));
        var edges = cycles.SelectMany(cycle => cycle.Split(" -> ").Zip(cycle.Split(" -> ").Skip(1)))
            .Distinct().Order().ToList();
        return $"{cycles.Count} namespace cycle(s):\n  " + string.Join("\n  ", cycles)
            + "\nedges on a cycle, and why:\n  "
            + string.Join("\n  ", edges.Select(edge => $"{edge.First} -> {edge.Second}: {string.Join("; ", reasons[edge.First][edge.Second])}"));
    }

    private static List<string> NonBclReferences(Assembly assembly) => assembly.GetReferencedAssemblies()
        .Select(name => name.Name!)
        .Where(name => !(name.StartsWith("System", StringComparison.Ordinal) || name is "netstandard" or "mscorlib"))
        .Order(StringComparer.Ordinal)
        .ToList();

    private static List<string> Failing(TestResult result) =>
        result.IsSuccessful ? [] : (result.FailingTypeNames ?? []).Order(StringComparer.Ordinal).ToList();

}
