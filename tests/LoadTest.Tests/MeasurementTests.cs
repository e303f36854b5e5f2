using System.Text;
using LoadTest;
using Microsoft.AspNetCore.Http;

namespace LoadTest.Tests;

/// <summary>The pieces behind the printed figures: percentiles, and how the storage proxy names a request.</summary>
public sealed class MeasurementTests
{
    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        double[] samples = [.. Enumerable.Range(1, 100).Select(i => (double)i)];

        var summary = LatencySummary.Of(samples);

        Assert.Equal((50d, 95d, 99d, 100d), (summary.P50, summary.P95, summary.P99, summary.Max));
        Assert.Equal(7d, LatencySummary.Percentile([7], 0.99));
    }

    [Theory]
    [InlineData("GET", "/devstoreaccount1/Sales(PartitionKey='r1',RowKey='state')", "table:Sales:read")]
    [InlineData("GET", "/devstoreaccount1/Sales()", "table:Sales:query")]
    [InlineData("PUT", "/devstoreaccount1/OpenSales(PartitionKey='open',RowKey='r1')", "table:OpenSales:update")]
    [InlineData("DELETE", "/devstoreaccount1/OpenSales(PartitionKey='open',RowKey='r1')", "table:OpenSales:delete")]
    [InlineData("POST", "/devstoreaccount1/Tables", "table:(tables):post")]
    public void Table_requests_are_named_by_table_and_operation(string method, string path, string kind)
    {
        Assert.Equal(kind, StorageProxy.TableKind(Request(method, path), []));
    }

    [Fact]
    public void A_batch_is_named_by_the_table_in_its_body()
    {
        var body = Encoding.UTF8.GetBytes("--changeset_1\r\nContent-Type: application/http\r\n\r\nPOST http://127.0.0.1:1234/devstoreaccount1/Sales HTTP/1.1\r\n");

        Assert.Equal("table:Sales:batch", StorageProxy.TableKind(Request("POST", "/devstoreaccount1/$batch"), body));
    }

    [Theory]
    [InlineData("POST", "/devstoreaccount1/sale-commands/messages", "", "queue:sale-commands:put")]
    [InlineData("GET", "/devstoreaccount1/sale-commands/messages", "?numofmessages=8", "queue:sale-commands:get")]
    [InlineData("DELETE", "/devstoreaccount1/sale-commands/messages/abc", "?popreceipt=x", "queue:sale-commands:delete")]
    [InlineData("PUT", "/devstoreaccount1/sale-commands", "", "queue:sale-commands:queue-put")]
    public void Queue_requests_are_named_by_queue_and_operation(string method, string path, string query, string kind)
    {
        Assert.Equal(kind, StorageProxy.QueueKind(Request(method, path, query)));
    }

    [Fact]
    public void Counts_subtract_per_kind()
    {
        var earlier = new StorageCounts(3, new Dictionary<string, long> { ["a"] = 2, ["b"] = 1 });
        var later = new StorageCounts(7, new Dictionary<string, long> { ["a"] = 2, ["b"] = 4, ["c"] = 1 });

        var delta = later.Minus(earlier);

        Assert.Equal(4, delta.Total);
        Assert.Equal(new Dictionary<string, long> { ["b"] = 3, ["c"] = 1 }, delta.ByKind);
    }

    private static HttpRequest Request(string method, string path, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query.Length == 0 ? null : query);
        return context.Request;
    }
}
