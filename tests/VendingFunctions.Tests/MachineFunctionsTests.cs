using Moq;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Sales;
using VendingFunctions.Http.Operator;

namespace VendingFunctions.Tests;

public sealed class MachineFunctionsTests
{
    private readonly Mock<IMachineDirectory> _directory = new(MockBehavior.Strict);

    private MachineFunctions Functions() => new(Fakes.OperatorApi(_directory.Object), _directory.Object);

    [Fact]
    public async Task Provisioning_answers_201_with_the_api_key_once()
    {
        ProvisionMachineRequest? received = null;
        _directory.Setup(d => d.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()))
            .Callback((ProvisionMachineRequest r, CancellationToken _) => received = r)
            .ReturnsAsync(new MachineCredentials(Fakes.Machine("lobby-1"), "lobby-1.generated-secret"));
        var request = TestHttp.Request("POST", "/api/operator/machines",
            """{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK","captureMode":"onAuthorization"}""", apiKey: null);

        var response = await TestHttp.Run(request, token => Functions().Provision(request, token));

        Assert.Equal(201, response.Status);
        Assert.Equal("/api/operator/machines/lobby-1", response.Headers.Location.ToString());
        Assert.Equal("no-store", response.Headers.CacheControl.ToString());
        Assert.Equal("lobby-1.generated-secret", response.Json.GetProperty("apiKey").GetString());
        Assert.Equal("lobby-1", response.Json.GetProperty("machine").GetProperty("machineId").GetString());
        Assert.Equal(new ProvisionMachineRequest("lobby-1", "Lobby", "Oslo", "vippsno", "NOK", CaptureMode.OnAuthorization, "svg"), received);
    }

    [Theory]
    [InlineData("""{"machineId":"lobby.1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK"}""", "validation_failed", "machineId")]
    [InlineData("""{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK","captureMode":"never"}""", "validation_failed", "captureMode")]
    [InlineData("""{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK","secret":"mine"}""", "unknown_field", "secret")]
    [InlineData("""{"machineId":"lobby-1","location":"Oslo","merchantId":"vippsno","currency":"NOK"}""", "validation_failed", "name")]
    public async Task Bad_provisioning_bodies_get_400(string body, string code, string field)
    {
        var request = TestHttp.Request("POST", "/api/operator/machines", body, apiKey: null);

        var response = await TestHttp.Run(request, token => Functions().Provision(request, token));

        response.AssertProblem(400, code, field);
        _directory.VerifyNoOtherCalls();
    }

    [Fact]
    public async Task A_directory_refusal_is_mapped_with_its_code()
    {
        _directory.Setup(d => d.ProvisionAsync(It.IsAny<ProvisionMachineRequest>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new SaleException(RefusalKind.Conflict, "machine_exists", "A machine with this id exists.", "machineId"));
        var request = TestHttp.Request("POST", "/api/operator/machines",
            """{"machineId":"lobby-1","name":"Lobby","location":"Oslo","merchantId":"vippsno","currency":"NOK"}""", apiKey: null);

        var response = await TestHttp.Run(request, token => Functions().Provision(request, token));

        response.AssertProblem(409, "machine_exists", "machineId");
    }
}
