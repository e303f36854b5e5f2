using System.Text.Json.Nodes;

namespace Infra.Tests;

/// <summary>The alerts, their action group and the workbook, on the metrics and logs the app emits
/// (functions/Vending.Core/Observability, docs/operations.md).</summary>
[Collection(TemplateCollection.Name)]
public sealed class ObservabilityInfraTests(CompiledTemplate template)
{
    /// <summary>rule name suffix → (text the query must hold, operator, threshold).</summary>
    public static readonly TheoryData<string, string, string, double> Alerts = new()
    {
        { "poison-commands", "\"vending.commands.poisoned\"", "GreaterThan", 0 },
        { "sales-failed", "== \"Failed\"", "GreaterThan", 0 },
        { "money-reserved-past-deadline", "\"vending.sales.reserved_overdue\"", "GreaterThan", 0 },
        { "webhook-refusals", "== \"refused\"", "GreaterThan", 10 },
        { "vipps-errors", "status >= 500 or status == 401", "GreaterThan", 5 },
        { "reconciler-lag", "\"vending.reconciler.lag\"", "GreaterThan", 300 },
        { "webhooks-silent", "vends > 0 and verified == 0", "GreaterThan", 0 },
        { "webhook-registration-repaired", "Webhook watchdog: merchant", "GreaterThan", 0 },
    };

    [Theory]
    [MemberData(nameof(Alerts))]
    public void Each_alert_queries_Application_Insights_with_its_threshold_and_reaches_the_action_group(string rule, string queryHolds, string op, double threshold)
    {
        var alert = Assert.Single(template.OfType("Microsoft.Insights/scheduledQueryRules"), a => a["name"]!.GetValue<string>().EndsWith("-" + rule, StringComparison.Ordinal));
        var properties = alert["properties"]!;
        Assert.True(properties["enabled"]!.GetValue<bool>());
        Assert.Equal(template.Single("Microsoft.Insights/components")["id"]!.GetValue<string>(), Assert.Single(properties["scopes"]!.AsArray())!.GetValue<string>());
        var criterion = Assert.Single(properties["criteria"]!["allOf"]!.AsArray())!;
        Assert.Contains(queryHolds, criterion["query"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(op, criterion["operator"]!.GetValue<string>());
        Assert.Equal(threshold, criterion["threshold"]!.GetValue<double>());
        Assert.Contains("docs/operations.md#" + rule, properties["description"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(template.Single("Microsoft.Insights/actionGroups")["id"]!.GetValue<string>(), Assert.Single(properties["actions"]!["actionGroups"]!.AsArray())!.GetValue<string>());

        // The page that says what to do when it fires exists.
        Assert.Contains("### " + rule, File.ReadAllText(Repo.PathOf("docs", "operations.md")), StringComparison.Ordinal);
    }

    [Fact]
    public void There_is_no_alert_without_its_row_in_the_list()
    {
        var named = Alerts.Select(row => (string)row[0]).ToHashSet();
        Assert.All(template.OfType("Microsoft.Insights/scheduledQueryRules"), a => Assert.Contains(a["name"]!.GetValue<string>().Split('-', 3)[2], named));
    }

    [Fact]
    public void Metric_names_in_the_alerts_are_the_ones_the_app_emits()
    {
        var emitted = new[]
        {
            Vending.Core.Observability.SaleMetrics.SalesCreated, Vending.Core.Observability.SaleMetrics.SalesFinal,
            Vending.Core.Observability.SaleMetrics.VendReportDelay, Vending.Core.Observability.SaleMetrics.CaptureDelay,
            Vending.Core.Observability.SaleMetrics.CommandsRetried, Vending.Core.Observability.SaleMetrics.CommandsPoisoned,
            Vending.Core.Observability.WebhookMetrics.Received, Vending.Core.Observability.ReconcilerPass.DueName,
            Vending.Core.Observability.ReconcilerPass.LagName, Vending.Core.Observability.ReconcilerPass.ReservedOverdueName,
            Vending.Vipps.Http.VippsTelemetry.CallsName,
        }.ToHashSet(StringComparer.Ordinal);
        var dimensions = typeof(Vending.Core.Observability.VendingTelemetry.Tags).GetFields().Select(f => (string)f.GetRawConstantValue()!).ToHashSet(StringComparer.Ordinal);
        var queries = template.OfType("Microsoft.Insights/scheduledQueryRules").Select(a => a["properties"]!["criteria"]!["allOf"]![0]!["query"]!.GetValue<string>());
        foreach (var query in queries)
        {
            foreach (System.Text.RegularExpressions.Match name in System.Text.RegularExpressions.Regex.Matches(query, "\"(vending\\.[a-z_.]+)\""))
            {
                Assert.True(emitted.Contains(name.Groups[1].Value) || dimensions.Contains(name.Groups[1].Value), $"{name.Groups[1].Value} is neither a metric nor a dimension of the app");
            }
        }
    }

    [Fact]
    public void The_action_group_e_mails_the_address_given_as_parameter()
    {
        var group = template.Single("Microsoft.Insights/actionGroups");
        var receiver = Assert.Single(group["properties"]!["emailReceivers"]!.AsArray())!;
        Assert.Equal(CompiledTemplate.AlertEmail, receiver["emailAddress"]!.GetValue<string>());
        Assert.Equal("string", template.ArmTemplate["parameters"]!["alertEmail"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void The_workbook_shows_the_fleets_sales_and_the_health_figures()
    {
        var workbook = template.Single("Microsoft.Insights/workbooks");
        Assert.Equal(template.Single("Microsoft.Insights/components")["id"]!.GetValue<string>(), workbook["properties"]!["sourceId"]!.GetValue<string>());
        var data = JsonNode.Parse(workbook["properties"]!["serializedData"]!.GetValue<string>())!;
        var queries = data["items"]!.AsArray().Select(i => i!["content"]!["query"]!.GetValue<string>()).ToList();
        foreach (var metric in new[] { "vending.sales.created", "vending.sales.final", "vending.vipps.calls", "vending.webhooks.received", "vending.reconciler.lag", "vending.commands.poisoned" })
        {
            Assert.Contains(queries, q => q.Contains(metric, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Host_json_keeps_successful_executions_and_emits_OpenTelemetry()
    {
        var host = JsonNode.Parse(File.ReadAllText(Repo.PathOf("host.json")))!;
        Assert.Equal("OpenTelemetry", host["telemetryMode"]!.GetValue<string>());
        Assert.Null(host["logging"]!["logLevel"]!["Host.Results"]);
    }

    [Fact]
    public void The_app_runs_the_webhook_watchdog_in_Azure()
    {
        Assert.Equal("true", template.AppSettings["WebhookWatchdog__Enabled"]);
    }
}
