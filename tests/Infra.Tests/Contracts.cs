using System.Text.Json;
using System.Text.RegularExpressions;

namespace Infra.Tests;

/// <summary>The names the app relies on, read from where they are declared: docs/ARCHITECTURE.md (the contract
/// tables), local.settings.sample.json (what the app reads locally) and the code's name constants.</summary>
internal static partial class Contracts
{
    /// <summary>Configuration keys in ':' form (as IConfiguration sees them), with where each was found.</summary>
    public static IReadOnlyDictionary<string, string> ConfigurationKeys()
    {
        var keys = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var key in DocumentedConfigurationKeys())
        {
            keys.TryAdd(key, "docs/ARCHITECTURE.md");
        }
        foreach (var key in BindingSettingKeys())
        {
            keys.TryAdd(key, "a trigger attribute in functions/VendingFunctions");
        }
        return keys;
    }

    /// <summary>Settings named by trigger attributes: %Name% binding expressions and Connection = "Name".</summary>
    public static IReadOnlyList<string> BindingSettingKeys()
    {
        var keys = new List<string>();
        foreach (var file in SourceFiles(Repo.PathOf("functions", "VendingFunctions")))
        {
            var text = File.ReadAllText(file);
            keys.AddRange(BindingExpression().Matches(text).Select(m => Normalize(m.Groups[1].Value)));
            keys.AddRange(ConnectionName().Matches(text).Select(m => Normalize(m.Groups[1].Value)));
        }
        Assert.True(keys.Count > 0, "no binding settings found in functions/VendingFunctions (the timer's %Reconciler:Schedule%, the queue's Connection): the scan is broken");
        return keys.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public static IReadOnlyList<string> DocumentedConfigurationKeys()
    {
        var keys = new List<string>();
        foreach (var row in TableRows(Section(Architecture(), "## Configuration keys")))
        {
            string? lastFullKey = null;
            foreach (Match token in Backticked().Matches(row[0]))
            {
                var text = token.Groups[1].Value.Trim().TrimEnd('.');
                string key;
                if (text.StartsWith(':'))
                {
                    // ", `:ClientId`" continues the previous key: same prefix, another last segment.
                    Assert.NotNull(lastFullKey);
                    key = lastFullKey![..lastFullKey!.LastIndexOf(':')] + text;
                }
                else
                {
                    key = Normalize(text);
                    lastFullKey = key;
                }
                keys.Add(key);
            }
        }
        Assert.True(keys.Count >= 10, "the configuration table of docs/ARCHITECTURE.md was not found or not parsed: " + string.Join(", ", keys));
        return keys;
    }

    /// <summary>Keys under "Values" of local.settings.sample.json at the repository root.</summary>
    public static IReadOnlyList<string> SampleSettingsKeys()
    {
        var path = Repo.PathOf("local.settings.sample.json");
        Assert.True(File.Exists(path), "local.settings.sample.json is missing at the repository root");
        using var doc = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return doc.RootElement.GetProperty("Values").EnumerateObject().Select(p => Normalize(p.Name)).ToList();
    }

    /// <summary>Table and queue names of the storage table in docs/ARCHITECTURE.md.</summary>
    public static (IReadOnlyList<string> Tables, IReadOnlyList<string> Queues) DocumentedStorage()
    {
        var tables = new List<string>();
        var queues = new List<string>();
        foreach (var row in TableRows(Section(Architecture(), "## Storage")))
        {
            if (row[0].TrimStart().StartsWith("queue", StringComparison.OrdinalIgnoreCase))
            {
                // "queue `sale-commands`" and, in the description, "`sale-commands-poison` for messages that kept failing".
                queues.AddRange(row.SelectMany(cell => Backticked().Matches(cell)).Select(m => m.Groups[1].Value).Where(n => QueueName().IsMatch(n)));
            }
            else
            {
                tables.AddRange(Backticked().Matches(row[0]).Select(m => m.Groups[1].Value));
            }
        }
        Assert.True(tables.Count >= 5 && queues.Count >= 2, $"the storage table of docs/ARCHITECTURE.md was not parsed: tables [{string.Join(", ", tables)}], queues [{string.Join(", ", queues)}]");
        return (tables.Distinct().ToList(), queues.Distinct().ToList());
    }

    /// <summary>Names in the code: string constants of classes named *Queue*Names / *Table*Names, and queue trigger attributes.</summary>
    public static (IReadOnlyList<string> Tables, IReadOnlyList<string> Queues) StorageNamesInCode()
    {
        var tables = new List<string>();
        var queues = new List<string>();
        foreach (var file in SourceFiles(Repo.PathOf("functions")))
        {
            var text = File.ReadAllText(file);
            foreach (Match names in NamesClass().Matches(text))
            {
                var target = names.Groups["kind"].Value.Equals("Queue", StringComparison.OrdinalIgnoreCase) ? queues : tables;
                target.AddRange(StringConstant().Matches(names.Groups["body"].Value).Select(m => m.Groups[1].Value));
            }
            queues.AddRange(QueueTriggerLiteral().Matches(text).Select(m => m.Groups[1].Value));
        }
        Assert.True(queues.Count > 0, "no queue names found in functions/ (class QueueNames with const strings): the scan is broken");
        return (tables.Distinct().ToList(), queues.Distinct().ToList());
    }

    /// <summary>"Vipps__BaseUrl" and "Vipps:BaseUrl" are the same key.</summary>
    public static string Normalize(string key) => key.Replace("__", ":", StringComparison.Ordinal);

    private static string Architecture() => File.ReadAllText(Repo.PathOf("docs", "ARCHITECTURE.md"));

    private static string Section(string markdown, string heading)
    {
        var start = markdown.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{heading}' not found in docs/ARCHITECTURE.md");
        var end = markdown.IndexOf("\n## ", start + heading.Length, StringComparison.Ordinal);
        return end < 0 ? markdown[start..] : markdown[start..end];
    }

    /// <summary>Body rows of the markdown tables in a section, as cells.</summary>
    private static IEnumerable<string[]> TableRows(string section) =>
        section.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith('|') && !line.StartsWith("|---", StringComparison.Ordinal) && line.Contains('`'))
            .Select(line => line.Trim('|').Split('|'));

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)+$")]
    private static partial Regex QueueName();

    [GeneratedRegex(@"class\s+\w*(?<kind>Queue|Table)\w*Names\b[^{]*\{(?<body>[^}]*)\}", RegexOptions.IgnoreCase)]
    private static partial Regex NamesClass();

    [GeneratedRegex(@"const\s+string\s+\w+\s*=\s*""([^""]+)""")]
    private static partial Regex StringConstant();

    private static IEnumerable<string> SourceFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !Path.GetRelativePath(directory, f).Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));

    [GeneratedRegex(@"Trigger\(\s*""%([^%""]+)%""")]
    private static partial Regex BindingExpression();

    [GeneratedRegex(@"Connection\s*=\s*""([^""]+)""")]
    private static partial Regex ConnectionName();

    [GeneratedRegex(@"\[QueueTrigger\(\s*""([^""%]+)""")]
    private static partial Regex QueueTriggerLiteral();
}
