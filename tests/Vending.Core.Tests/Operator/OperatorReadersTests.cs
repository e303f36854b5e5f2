using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Vending.Core.Http;
using Vending.Core.Sales;

namespace VendingFunctions.Tests.Operator;

public sealed class OperatorReadersTests
{
    private static IQueryCollection Query(string query) => new QueryCollection(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query));

    private static RefundRequest Refund(string json) => JsonFields.Parse(Encoding.UTF8.GetBytes(json), RequestReaders.ReadRefund);

    [Fact]
    public void A_sales_query_reads_every_parameter()
    {
        var query = RequestReaders.ReadSalesQuery(Query("?machineId=lobby-1&from=2025-11-26T10:00:00Z&to=2025-11-26T12:00:00%2B01:00&pageSize=20&code=k"));

        Assert.Equal("lobby-1", query.MachineId);
        Assert.Equal(new DateTimeOffset(2025, 11, 26, 10, 0, 0, TimeSpan.Zero), query.From);
        Assert.Equal(new DateTimeOffset(2025, 11, 26, 11, 0, 0, TimeSpan.Zero), query.To!.Value.ToUniversalTime());
        Assert.Equal(20, query.PageSize);
        Assert.Null(query.ContinuationToken);
        Assert.Equal(50, RequestReaders.ReadSalesQuery(Query("?machineId=lobby-1")).PageSize);
    }

    [Theory]
    [InlineData("", "validation_failed", "machineId")]
    [InlineData("?machineId=Lobby_1", "validation_failed", "machineId")]
    [InlineData("?machineId=lobby-1&machineId=lobby-2", "validation_failed", "machineId")]
    [InlineData("?machineId=lobby-1&pageSize=0", "validation_failed", "pageSize")]
    [InlineData("?machineId=lobby-1&pageSize=101", "validation_failed", "pageSize")]
    [InlineData("?machineId=lobby-1&pageSize=-5", "validation_failed", "pageSize")]
    [InlineData("?machineId=lobby-1&pageSize=9223372036854775808", "validation_failed", "pageSize")]
    [InlineData("?machineId=lobby-1&from=2025-11-26", "validation_failed", "from")]
    [InlineData("?machineId=lobby-1&from=2025-11-26T10:00:00", "validation_failed", "from")]
    [InlineData("?machineId=lobby-1&to=1999-12-31T23:59:59Z", "validation_failed", "to")]
    [InlineData("?machineId=lobby-1&from=2025-11-27T00:00:00Z&to=2025-11-26T00:00:00Z", "validation_failed", "from")]
    [InlineData("?machineId=lobby-1&continuationToken=dC0x", "validation_failed", "continuationToken")]
    [InlineData("?machineId=lobby-1&continuationToken=%27%20or%201%3D1", "validation_failed", "continuationToken")]
    [InlineData("?machineId=lobby-1&filter=PartitionKey", "unknown_field", "filter")]
    public void A_bad_sales_query_names_its_parameter(string query, string code, string field)
    {
        var problem = Assert.Throws<ApiProblemException>(() => RequestReaders.ReadSalesQuery(Query(query)));

        Assert.Equal((400, code, field), (problem.Status, problem.Code, problem.Field));
    }

    [Fact]
    public void A_refund_reads_amount_and_request_id()
    {
        Assert.Equal(new RefundRequest(1500, "r-1"), Refund("""{"amount":1500,"requestId":"r-1"}"""));
    }

    [Theory]
    [InlineData("""{"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":0,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":-1,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":9223372036854775807,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":9223372036854775808,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":1.5,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":"100","requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":100}""", "validation_failed", "requestId")]
    [InlineData("""{"amount":100,"requestId":"r_1"}""", "validation_failed", "requestId")]
    [InlineData("""{"amount":100,"requestId":"12345678901234567890123456789012345678901"}""", "validation_failed", "requestId")]
    [InlineData("""{"amount":100,"requestId":"r-1","reason":"x"}""", "unknown_field", "reason")]
    [InlineData("""{"amount":100,"amount":200,"requestId":"r-1"}""", "validation_failed", "amount")]
    [InlineData("""{"amount":65000001,"requestId":"r-1"}""", "validation_failed", "amount")]
    public void A_bad_refund_names_its_field(string json, string code, string field)
    {
        var problem = Assert.Throws<ApiProblemException>(() => Refund(json));

        Assert.Equal((400, code, field), (problem.Status, problem.Code, problem.Field));
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Lobby-1")]
    [InlineData("lobby.1")]
    [InlineData("lobby/1")]
    [InlineData("")]
    [InlineData(null)]
    public void A_route_machine_id_that_cannot_exist_is_not_found(string? machineId)
    {
        var problem = Assert.Throws<SaleException>(() => RequestReaders.ReadMachineId(machineId));

        Assert.Equal((RefusalKind.NotFound, "machine_not_found"), (problem.Kind, problem.Code));
    }

    [Theory]
    [InlineData("", 50)]
    [InlineData("?lookback=200", 200)]
    public void Reconciliation_lookback_defaults_to_50(string query, int expected) =>
        Assert.Equal(expected, RequestReaders.ReadReconciliationQuery(Query(query)));

    [Theory]
    [InlineData("?lookback=0")]
    [InlineData("?lookback=201")]
    [InlineData("?lookback=x")]
    [InlineData("?since=1")]
    public void Reconciliation_refuses_a_bad_query(string query) =>
        Assert.Equal(400, Assert.Throws<ApiProblemException>(() => RequestReaders.ReadReconciliationQuery(Query(query))).Status);

    private const string Provision = """{"machineId":"lobby-1","name":"NAME","location":"Hall","merchantId":"vippsno","currency":"NOK"}""";

    [Theory]
    [InlineData("Lobby \u202eevil", "name")] // right-to-left override: would reorder what an operator reads
    [InlineData("Lobby\\u0000", "name")] // escaped: a raw NUL is not JSON at all
    [InlineData("Lobby\u2066x\u2069", "name")]
    [InlineData("Lobby\u00ad", "name")] // soft hyphen is a format character too
    public void A_machine_name_with_control_or_format_characters_is_refused(string name, string field)
    {
        var json = Provision.Replace("NAME", name, StringComparison.Ordinal);

        var problem = Assert.Throws<ApiProblemException>(() => JsonFields.Parse(Encoding.UTF8.GetBytes(json), RequestReaders.ReadProvisionMachine));

        Assert.Equal((400, "validation_failed", field), (problem.Status, problem.Code, problem.Field));
    }

    [Fact]
    public void A_machine_name_in_any_script_with_emoji_is_read()
    {
        var json = Provision.Replace("NAME", "Kiosk \u00e6\u00f8\u00e5 \u0645\u062d\u0637\u0629 \ud83e\udd64", StringComparison.Ordinal);

        var machine = JsonFields.Parse(Encoding.UTF8.GetBytes(json), RequestReaders.ReadProvisionMachine);

        Assert.Equal("Kiosk æøå محطة 🥤", machine.Name);
    }

    [Theory]
    [InlineData("""{"amount":100,"requestId":"\ud800"}""")]
    [InlineData("""{"amount":100,"requestId":"r-1\udfff\ud800"}""")]
    [InlineData("""{"\udc00":100,"requestId":"r-1"}""")]
    public void Unpaired_surrogate_escapes_are_invalid_json(string json)
    {
        var problem = Assert.Throws<ApiProblemException>(() => Refund(json));

        Assert.Equal((400, "invalid_json"), (problem.Status, problem.Code));
    }

    [Fact]
    public void Invalid_utf8_in_an_operator_body_is_invalid_json()
    {
        var body = Encoding.UTF8.GetBytes(Provision).ToList();
        var at = body.IndexOf((byte)'N');
        body.InsertRange(at, new byte[] { 0xFF, 0xFE });

        var problem = Assert.Throws<ApiProblemException>(() => JsonFields.Parse(body.ToArray(), RequestReaders.ReadProvisionMachine));

        Assert.Equal((400, "invalid_json"), (problem.Status, problem.Code));
    }
}
