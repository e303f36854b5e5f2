using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using VendingFunctions;

var builder = FunctionsApplication.CreateBuilder(args);
FunctionAppHost.Configure(builder);
builder.Build().Run();
