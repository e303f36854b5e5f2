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
    public static IReadOnlyDictionary<string, SortedSet<string>> Of(string assemblyPath, string prefix)
    {
        using var module = ModuleDefinition.ReadModule(assemblyPath);
        var graph = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
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
                graph[from] = edges = new SortedSet<string>(StringComparer.Ordinal);
            }

            foreach (var to in Used(type).Select(NamespaceOf).Where(to => to != from && InScope(to)))
            {
                edges.Add(to);
            }
        }

        return graph;
    }

    /// <summary>One cycle as "A -> B -> A", or null when the graph has none.</summary>
    public static string? FindCycle(IReadOnlyDictionary<string, SortedSet<string>> graph)
    {
        var state = new Dictionary<string, bool>(StringComparer.Ordinal); // false: on the current path; true: done
        var path = new List<string>();

        string? Visit(string node)
        {
            if (state.TryGetValue(node, out var done))
            {
                return done ? null : string.Join(" -> ", path.Skip(path.IndexOf(node)).Append(node));
            }

            state[node] = false;
            path.Add(node);
            foreach (var next in graph.TryGetValue(node, out var edges) ? edges : [])
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = true;
            return null;
        }

        return graph.Keys.Order(StringComparer.Ordinal).Select(Visit).FirstOrDefault(cycle => cycle is not null);
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
