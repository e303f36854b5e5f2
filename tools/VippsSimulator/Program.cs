using VippsSimulator.Hosting;

namespace VippsSimulator;

/// <summary>
/// <c>dotnet run --project tools/VippsSimulator -- --urls http://127.0.0.1:7071</c>. A class (not top-level statements)
/// in our namespace, so projects that reference several web apps see no clash, and <c>WebApplicationFactory&lt;Program&gt;</c> works.
/// </summary>
public partial class Program
{
    public static Task Main(string[] args) => SimulatorApp.Build(SimulatorApp.CreateBuilder(args)).RunAsync();
}
