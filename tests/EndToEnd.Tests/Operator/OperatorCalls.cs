using System.Net.Http.Json;
using Azure.Data.Tables;
using VendingFunctions.Tests.EndToEnd;

namespace VendingFunctions.Tests.Operator;

/// <summary>Operator calls over real HTTP (the stack's client carries the function key), answered as <see cref="ApiAnswer"/>.</summary>
internal static class OperatorCalls
{
    public static async Task<ApiAnswer> GetAnswerAsync(this HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers);
    }

    public static async Task<ApiAnswer> PostAnswerAsync(this HttpClient http, string path, object? body = null)
    {
        using var response = body is null ? await http.PostAsync(path, null) : await http.PostAsJsonAsync(path, body);
        return new ApiAnswer(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers);
    }

    /// <summary>Approves as the customer and waits until the machine sees Authorized (webhook or poll).</summary>
    public static async Task<string> AuthorizedSaleAsync(ProductStack stack, MachineClient machine, long unitPrice = 2500, int quantity = 1)
    {
        var reference = (await machine.CreateSaleAsync(MachineClient.Cola(unitPrice, quantity), qrFormat: "url")).Reference;
        Assert.Null(stack.Simulator.Approve(reference));
        await machine.WaitForStateAsync(reference, "Authorized");
        return reference;
    }

    /// <summary>A sale captured in full: created, approved, delivered, confirmed by Vipps.</summary>
    public static async Task<string> CapturedSaleAsync(ProductStack stack, MachineClient machine, long unitPrice = 2500, int quantity = 1)
    {
        var reference = await AuthorizedSaleAsync(stack, machine, unitPrice, quantity);
        (await machine.VendAsync(reference, "delivered")).AssertStatus(System.Net.HttpStatusCode.OK);
        await machine.WaitForStateAsync(reference, "Captured");
        return reference;
    }

    /// <summary>Every entity of the given tables as "table|pk|rk|etag", sorted: any write changes an ETag.</summary>
    public static async Task<IReadOnlyList<string>> SnapshotAsync(string connectionString, params string[] tables)
    {
        var service = new TableServiceClient(connectionString);
        var rows = new List<string>();
        foreach (var name in tables)
        {
            var table = service.GetTableClient(name);
            await table.CreateIfNotExistsAsync();
            await foreach (var entity in table.QueryAsync<TableEntity>())
            {
                rows.Add($"{name}|{entity.PartitionKey}|{entity.RowKey}|{entity.ETag}");
            }
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }
}
