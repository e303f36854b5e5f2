using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Moq;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Operator;
using Vending.Core.Operator.Access;
using Vending.Core.Sales;
using Vending.Core.Webhooks;
using VendingFunctions.Http.Operator;

namespace VendingFunctions.Tests.Operator;

/// <summary>
/// The one authorization point on every operator route, found by reflection (a new route is covered without a test
/// change): a viewer reads but is refused every change with 403 problem+json, an operator and the key do both, nobody
/// and a forged principal (the platform's header when nothing in front of the app vouches for it) get 401, and every
/// change, allowed or refused, leaves an audit row naming who made it.
/// </summary>
public sealed class OperatorAccessTests
{
    private static readonly string Operator = ClientPrincipalHeader.Encode("Olga Operator", "0b7e3c1a-0000-4000-8000-000000000001", OperatorPrincipal.OperatorRoleName);
    private static readonly string Viewer = ClientPrincipalHeader.Encode("Viktor Viewer", "0b7e3c1a-0000-4000-8000-000000000002", OperatorPrincipal.ViewerRoleName);

    public sealed record Route(string Function, string Method, string Path, Type Class, MethodInfo Invoke)
    {
        public bool IsChange => Method != "get";

        public override string ToString() => $"{Method.ToUpperInvariant()} /api/{Path} ({Function})";
    }

    public static TheoryData<Route> Routes()
    {
        var data = new TheoryData<Route>();
        foreach (var route in OperatorRoutes())
        {
            data.Add(route);
        }

        return data;
    }

    private static IEnumerable<Route> OperatorRoutes() =>
        typeof(MachineFunctions).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods().Select(method => (type, method)))
            .Select(x => (x.type, x.method, function: x.method.GetCustomAttribute<FunctionAttribute>(),
                trigger: x.method.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).FirstOrDefault(a => a is not null)))
            .Where(x => x.function is not null && x.trigger?.Route?.StartsWith("operator/", StringComparison.Ordinal) == true)
            .SelectMany(x => x.trigger!.Methods!.Select(m => new Route(x.function!.Name, m, x.trigger.Route!, x.type, x.method)))
            .OrderBy(r => r.ToString(), StringComparer.Ordinal);

    [Fact]
    public void Every_operator_route_is_anonymous_to_the_host_and_found_here()
    {
        var routes = OperatorRoutes().ToList();
        Assert.True(routes.Count >= 14, $"only {routes.Count} operator routes found");
        Assert.Contains(routes, r => r.Function == "ListAudit");
        Assert.All(routes, r => Assert.Equal(AuthorizationLevel.Anonymous,
            r.Invoke.GetParameters().Select(p => p.GetCustomAttribute<HttpTriggerAttribute>()).First(a => a is not null)!.AuthLevel));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Nobody_gets_401_and_nothing_is_recorded(Route route)
    {
        var (response, audit) = await CallAsync(route, request => request.Headers.Remove("x-functions-key"), trustPrincipal: true);

        response.AssertProblem(401, "unauthorized");
        Assert.Empty(audit.Entries);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_forged_principal_is_ignored_when_nothing_in_front_of_the_app_vouches_for_it(Route route)
    {
        var (response, audit) = await CallAsync(route, request =>
        {
            request.Headers.Remove("x-functions-key");
            request.Headers[ClientPrincipalHeader.HeaderName] = Operator;
        }, trustPrincipal: false);

        response.AssertProblem(401, "unauthorized");
        Assert.Empty(audit.Entries);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task A_viewer_reads_but_every_change_is_403_and_recorded_as_refused(Route route)
    {
        var (response, audit) = await CallAsync(route, request =>
        {
            request.Headers.Remove("x-functions-key");
            request.Headers[ClientPrincipalHeader.HeaderName] = Viewer;
        }, trustPrincipal: true);

        if (route.IsChange)
        {
            response.AssertProblem(403, "forbidden");
            var entry = Assert.Single(audit.Entries);
            Assert.Equal(("user", "Viktor Viewer", "0b7e3c1a-0000-4000-8000-000000000002", 403, "forbidden"),
                (entry.ActorKind, entry.ActorName, entry.ActorObjectId, entry.Status, entry.Outcome));
        }
        else
        {
            Assert.NotEqual(401, response.Status);
            Assert.NotEqual(403, response.Status);
            Assert.Empty(audit.Entries);
        }
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task An_operator_passes_and_each_change_is_recorded_with_their_name_object_id_request_id_and_outcome(Route route)
    {
        var (response, audit) = await CallAsync(route, request =>
        {
            request.Headers.Remove("x-functions-key");
            request.Headers[ClientPrincipalHeader.HeaderName] = Operator;
        }, trustPrincipal: true);

        Assert.NotEqual(401, response.Status);
        Assert.NotEqual(403, response.Status);
        if (route.IsChange)
        {
            var entry = Assert.Single(audit.Entries);
            Assert.Equal(("user", "Olga Operator", "0b7e3c1a-0000-4000-8000-000000000001", response.Status),
                (entry.ActorKind, entry.ActorName, entry.ActorObjectId, entry.Status));
            Assert.False(string.IsNullOrEmpty(entry.RequestId));
            Assert.False(string.IsNullOrEmpty(entry.Action));
        }
        else
        {
            Assert.Empty(audit.Entries);
        }
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task The_key_passes_and_is_recorded_as_function_key(Route route)
    {
        var (response, audit) = await CallAsync(route, _ => { }, trustPrincipal: true);

        Assert.NotEqual(401, response.Status);
        Assert.NotEqual(403, response.Status);
        Assert.Equal(route.IsChange ? 1 : 0, audit.Entries.Count);
        Assert.All(audit.Entries, e => Assert.Equal(("function_key", "function key", (string?)null), (e.ActorKind, e.ActorName, e.ActorObjectId)));
    }

    [Fact]
    public async Task A_wrong_key_is_401_even_beside_a_valid_principal()
    {
        var route = OperatorRoutes().First(r => r.Function == "RefundSale");
        var (response, audit) = await CallAsync(route, request =>
        {
            request.Headers["x-functions-key"] = Fakes.OperatorKey + "x";
            request.Headers[ClientPrincipalHeader.HeaderName] = Operator;
        }, trustPrincipal: true);

        response.AssertProblem(401, "unauthorized");
        Assert.Empty(audit.Entries);
    }

    [Fact]
    public async Task A_refund_is_recorded_on_the_sale_with_the_action_and_a_succeeded_outcome()
    {
        var route = OperatorRoutes().First(r => r.Function == "RefundSale");
        var (response, audit) = await CallAsync(route, request =>
        {
            request.Headers.Remove("x-functions-key");
            request.Headers[ClientPrincipalHeader.HeaderName] = Operator;
        }, trustPrincipal: true);

        Assert.Equal(202, response.Status);
        var entry = Assert.Single(audit.Entries);
        Assert.Equal((OperatorActions.Refund, AuditSubjects.Sale, "sale-0001-abcd", "succeeded"), (entry.Action, entry.SubjectKind, entry.Subject, entry.Outcome));
    }

    [Fact]
    public async Task A_provision_is_recorded_on_the_new_machine()
    {
        var route = OperatorRoutes().First(r => r.Function == "ProvisionMachine");
        var (response, audit) = await CallAsync(route, _ => { }, trustPrincipal: false);

        Assert.Equal(201, response.Status);
        var entry = Assert.Single(audit.Entries);
        Assert.Equal((OperatorActions.Provision, AuditSubjects.Machine, "lobby-1"), (entry.Action, entry.SubjectKind, entry.Subject));
    }

    [Theory]
    [InlineData("""{"auth_typ":"aad","name_typ":"name","role_typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role","claims":[{"typ":"name","val":"Ann"},{"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"oid-1"},{"typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role","val":"Vending.Viewer"}]}""", "Ann", "oid-1", OperatorRole.Viewer)]
    [InlineData("""{"auth_typ":"aad","claims":[{"typ":"preferred_username","val":"ann@contoso.example"},{"typ":"oid","val":"oid-2"},{"typ":"roles","val":"Vending.Viewer"},{"typ":"roles","val":"Vending.Operator"}]}""", "ann@contoso.example", "oid-2", OperatorRole.Operator)]
    public void The_platforms_principal_is_read_with_entra_claim_names(string json, string name, string objectId, OperatorRole role)
    {
        var principal = ClientPrincipalHeader.Parse(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json)));

        Assert.Equal(new OperatorPrincipal(OperatorCallerKind.User, name, objectId, role), principal);
    }

    [Theory]
    [InlineData("""{"auth_typ":"aad","claims":[{"typ":"name","val":"Ann"},{"typ":"roles","val":"Something.Else"}]}""")]
    [InlineData("""{"auth_typ":"aad","claims":[{"typ":"roles","val":"Vending.Operator"}]}""")]
    [InlineData("""{"claims":"nope"}""")]
    [InlineData("[]")]
    public void A_principal_without_a_vending_role_or_a_name_is_nobody(string json)
    {
        Assert.Null(ClientPrincipalHeader.Parse(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(json))));
        Assert.Null(ClientPrincipalHeader.Parse("not base64 at all!"));
    }

    private static async Task<(TestResponse Response, InMemoryAuditLog Audit)> CallAsync(Route route, Action<HttpRequest> credentials, bool trustPrincipal)
    {
        var audit = new InMemoryAuditLog();
        var machines = new Mock<IMachineDirectory> { DefaultValue = DefaultValue.Mock };
        machines.Setup(m => m.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new MachineCredentials(Fakes.Machine("lobby-1"), "lobby-1.generated-secret"));
        machines.Setup(m => m.GetAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Machine());
        machines.Setup(m => m.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync([Fakes.Machine()]);
        machines.Setup(m => m.RotateSecretAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(new MachineCredentials(Fakes.Machine(), "machine-1.new"));
        machines.Setup(m => m.SetEnabledAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Machine());
        var sales = new Mock<ISaleOperatorService>();
        sales.Setup(s => s.GetAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale());
        sales.Setup(s => s.GetHistoryAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync([]);
        sales.Setup(s => s.RefundAsync(It.IsAny<string>(), It.IsAny<long>(), It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync(Fakes.Sale(state: SaleState.Settling));
        var queries = new Mock<IOperatorSaleQueries>();
        queries.Setup(q => q.ListAsync(It.IsAny<SalesQuery>(), It.IsAny<CancellationToken>())).ReturnsAsync(new SalePage([], null));
        queries.Setup(q => q.ReconcileAsync(It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(new ReconciliationReport(Fakes.Now, 0, 0, []));
        var merchants = new Mock<IMerchantCatalog>();
        merchants.Setup(m => m.ListAsync(It.IsAny<CancellationToken>())).ReturnsAsync([]);
        var registrar = new Mock<IWebhookRegistrar> { DefaultValue = DefaultValue.Mock };
        var vipps = new Mock<Vending.Vipps.EPayment.IVippsEPaymentClient> { DefaultValue = DefaultValue.Mock };
        var fleet = new Mock<Vending.Core.Operator.Fleet.IFleetQueries>();
        fleet.Setup(f => f.ListAsync(It.IsAny<Vending.Core.Operator.Fleet.FleetSalesQuery>(), It.IsAny<CancellationToken>())).ReturnsAsync(new SalePage([], null));
        fleet.Setup(f => f.ExportCsvAsync(It.IsAny<DateTimeOffset>(), It.IsAny<DateTimeOffset>(), It.IsAny<CancellationToken>())).ReturnsAsync("reference\r\n");
        var empty = new Vending.Core.Operator.Fleet.PeriodSummary(Fakes.Now, Fakes.Now, [], [], []);
        fleet.Setup(f => f.SummaryAsync(It.IsAny<CancellationToken>())).ReturnsAsync(new Vending.Core.Operator.Fleet.FleetSummary(Fakes.Now, empty, empty, false));

        var services = new ServiceCollection()
            .AddSingleton(Fakes.OperatorApi(machines.Object, audit, trustPrincipal))
            .AddSingleton<IOperatorAuditLog>(audit)
            .AddSingleton(TimeProvider.System)
            .AddSingleton(machines.Object)
            .AddSingleton(sales.Object)
            .AddSingleton(queries.Object)
            .AddSingleton(merchants.Object)
            .AddSingleton(registrar.Object)
            .AddSingleton(fleet.Object)
            .AddSingleton(vipps.Object)
            .BuildServiceProvider();
        var instance = ActivatorUtilities.CreateInstance(services, route.Class);

        var path = "/api/" + route.Path.Replace("{machineId}", "machine-1", StringComparison.Ordinal).Replace("{reference}", "sale-0001-abcd", StringComparison.Ordinal);
        var body = route.Function switch
        {
            "ProvisionMachine" => """{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK"}""",
            "RefundSale" => """{"amount":1000,"requestId":"r-1"}""",
            _ when route.IsChange => "{}",
            _ => null,
        };
        var query = route.Function == "ListSales" ? "?machineId=machine-1" : "";
        var request = TestHttp.Request(route.Method.ToUpperInvariant(), path + query, body, apiKey: null);
        credentials(request);

        var response = await TestHttp.Run(request, async token =>
        {
            var arguments = route.Invoke.GetParameters().Select(p => p.ParameterType == typeof(HttpRequest) ? request
                : p.ParameterType == typeof(CancellationToken) ? token
                : (object?)(p.Name == "machineId" ? "machine-1" : p.Name == "reference" ? "sale-0001-abcd" : null)).ToArray();
            var invoked = route.Invoke.Invoke(instance, BindingFlags.DoNotWrapExceptions, binder: null, arguments, culture: null)!;
            return invoked is Task<IActionResult> task ? await task : (IActionResult)invoked;
        });
        return (response, audit);
    }
}
