using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Architecture.Tests;

/// <summary>
/// Which namespace of an assembly uses which, read from its IL (signatures, attributes, method bodies), for the cycle
/// rule; NetArchTest answers "does type X depend on Y" but not "is there a loop". Mono.Cecil comes with NetArchTest.
/// </summary>
public static class NamespaceGraph
{
    /// <summary>Edges between distinct namespaces that start with <paramref name="prefix"/>.</summary>
    public static IReadOnlyDictionary<string, SortedSet<string>> Of(string assemblyPath, string prefix) =>
        Reasons(assemblyPath, prefix).ToDictionary(
            pair => pair.Key,
            pair => new SortedSet<string>(pair.Value.Keys, StringComparer.Ordinal),
            StringComparer.Ordinal);

    /// <summary>The same edges with why: for each namespace, each namespace it uses and the types that make the edge
    /// ("SaleService uses SaleStore"), so a failing rule can say what to move.</summary>
    public static IReadOnlyDictionary<string, SortedDictionary<string, SortedSet<string>>> Reasons(string assemblyPath, string prefix)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var graph = new Dictionary<string, SortedDictionary<string, SortedSet<string>>>(StringComparer.Ordinal);
        bool InScope(string ns) => ns == prefix || ns.StartsWith(prefix + ".", StringComparison.Ordinal);
        foreach (var type in module.GetTypes())
        {
            var from = NamespaceOf(type);
            if (!InScope(from))
            {
                continue;
            }

            if (!graph.TryGetValue(from, out var edges))
            {
                graph[from] = edges = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            }

            foreach (var used in Used(type))
            {
                var to = NamespaceOf(used);
                if (to == from || !InScope(to))
                {
                    continue;
                }

                if (!edges.TryGetValue(to, out var why))
                {
                    edges[to] = why = new SortedSet<string>(StringComparer.Ordinal);
                }

                why.Add($"{OuterName(type)} uses {OuterName(used)}");
            }
        }

        return graph;
    }

    /// <summary>One cycle as "A -> B -> A", or null when the graph has none.</summary>
    public static string? FindCycle(IReadOnlyDictionary<string, SortedSet<string>> graph) => FindCycles(graph, 1).FirstOrDefault();

    /// <summary>Every elementary cycle (no namespace twice), each once, written from its smallest namespace
    /// ("A -> B -> A"), shortest first. The search stops at <paramref name="limit"/> cycles, so a tangled graph still
    /// answers quickly (the shortest ones may then be missing: raise the limit to see them).</summary>
    public static IReadOnlyList<string> FindCycles(IReadOnlyDictionary<string, SortedSet<string>> graph, int limit = 10_000)
    {
        var cycles = new List<List<string>>();
        var nodes = graph.Keys.Concat(graph.Values.SelectMany(edges => edges)).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var start in nodes)
        {
            // A cycle is found from its smallest namespace only, so it is reported once.
            var path = new List<string> { start };
            var onPath = new HashSet<string>(StringComparer.Ordinal) { start };

            void Walk(string node)
            {
                foreach (var next in graph.TryGetValue(node, out var edges) ? edges : [])
                {
                    if (cycles.Count >= limit || string.CompareOrdinal(next, start) < 0)
                    {
                        continue;
                    }

                    if (next == start)
                    {
                        cycles.Add([.. path, start]);
                    }
                    else if (onPath.Add(next))
                    {
                        path.Add(next);
                        Walk(next);
                        path.RemoveAt(path.Count - 1);
                        onPath.Remove(next);
                    }
                }
            }

            Walk(start);
        }

        return cycles.OrderBy(cycle => cycle.Count).ThenBy(cycle => string.Join(" ", cycle), StringComparer.Ordinal)
            .Select(cycle => string.Join(" -> ", cycle)).ToList();
    }

    private static string OuterName(TypeReference type)
    {
        while (type.IsNested)
        {
            type = type.DeclaringType;
        }

        return type.Name;
    }

    private static string NamespaceOf(TypeReference type)
    {
        while (type.IsNested)
        {
            type = type.DeclaringType;
        }

        return type.Namespace;
    }

    private static IEnumerable<TypeReference> Used(TypeDefinition type)
    {
        var direct = new List<TypeReference>();
        if (type.BaseType is not null)
        {
            direct.Add(type.BaseType);
        }

        direct.AddRange(type.Interfaces.Select(i => i.InterfaceType));
        direct.AddRange(type.CustomAttributes.Select(a => a.AttributeType));
        direct.AddRange(type.Fields.Select(f => f.FieldType));
        direct.AddRange(type.Properties.Select(p => p.PropertyType));
        direct.AddRange(type.Events.Select(e => e.EventType));
        foreach (var method in type.Methods)
        {
            direct.Add(method.ReturnType);
            direct.AddRange(method.Parameters.Select(p => p.ParameterType));
            direct.AddRange(method.CustomAttributes.Select(a => a.AttributeType));
            if (!method.HasBody)
            {
                continue;
            }

            direct.AddRange(method.Body.Variables.Select(v => v.VariableType));
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference used:
                        direct.Add(used);
                        break;
                    case MethodReference called:
                        direct.Add(called.DeclaringType);
                        direct.Add(called.ReturnType);
                        direct.AddRange(called.Parameters.Select(p => p.ParameterType));
                        if (called is GenericInstanceMethod generic)
                        {
                            direct.AddRange(generic.GenericArguments);
                        }

                        break;
                    case FieldReference field:
                        direct.Add(field.DeclaringType);
                        direct.Add(field.FieldType);
                        break;
                }
            }
        }

        return direct.SelectMany(Expand);
    }

    /// <summary>A type with what it is built from: element types of arrays and by-refs, arguments of generics.</summary>
    private static IEnumerable<TypeReference> Expand(TypeReference type)
    {
        switch (type)
        {
            case GenericParameter:
                yield break;
            case GenericInstanceType generic:
                foreach (var part in Expand(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Expand)))
                {
                    yield return part;
                }

                yield break;
            case TypeSpecification specification:
                foreach (var part in Expand(specification.ElementType))
                {
                    yield return part;
                }

                yield break;
            default:
                yield return type;
                break;
        }
    }
}
