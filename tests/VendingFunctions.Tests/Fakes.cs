using Vending.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Vending.Core.Http;
using Vending.Core.Machines;
using Vending.Core.Operator.Access;
using Vending.Core.Sales;

namespace VendingFunctions.Tests;

internal static class Fakes
{
    public static readonly DateTimeOffset Now = new(2025, 11, 26, 12, 0, 0, TimeSpan.Zero);

    public static Machine Machine(string id = "machine-1") =>
        new(id, "Lobby", "Oslo", "vippsno", "NOK", CaptureMode.OnDelivery, "svg", Enabled: true, Now, KeyRotatedAt: Now);

    public static SaleView Sale(string reference = "sale-0001-abcd", SaleState state = SaleState.Created, string machineId = "machine-1") =>
        new(reference, machineId, "m-1", "vippsno", state, "NOK", 2500, 0, 0, 0, 0, 0,
            [new SaleLineView("cola", "Cola", 1, 2500, 2500, 2500)],
            new SaleQr("svg", "image/svg+xml", "<svg/>", null), Now, Now, Now.AddMinutes(5), null);

    public static VendingOptions Options(int maxBodyBytes = 16_384) =>
        new() { PublicBaseUrl = new Uri("https://vending.example"), MaxRequestBodyBytes = maxBodyBytes, WebhookClockSkewSeconds = 300 };

    /// <summary>A directory that knows exactly one key, <see cref="TestHttp.MachineKey"/>.</summary>
    public static Mock<IMachineDirectory> Directory()
    {
        var directory = new Mock<IMachineDirectory>(MockBehavior.Strict);
        directory.Setup(d => d.AuthenticateAsync(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((string key, CancellationToken _) => key == TestHttp.MachineKey ? Machine() : null);
        return directory;
    }

    /// <summary>The operator key the fake operator API accepts; <see cref="TestHttp.Request(string, string, string?, string?, string, bool)"/>
    /// sends it on /api/operator paths unless told otherwise.</summary>
    public const string OperatorKey = "test-operator-key";

    /// <summary>The one authorization point, accepting <see cref="OperatorKey"/> and, when <paramref name="trustPrincipal"/>,
    /// the platform's principal header; audit rows go to <paramref name="audit"/> (or nowhere).</summary>
    public static OperatorApi OperatorApi(IMachineDirectory directory, IOperatorAuditLog? audit = null, bool trustPrincipal = false, TimeProvider? time = null) =>
        new(Api(),
            Microsoft.Extensions.Options.Options.Create(new OperatorAccessOptions { AutomationKey = OperatorKey, TrustPlatformPrincipal = trustPrincipal }),
            audit ?? new InMemoryAuditLog(), time ?? TimeProvider.System, NullLogger<OperatorApi>.Instance);

    public static HttpApi Api(VendingOptions? options = null) =>
        new(new RequestBodyReader(Microsoft.Extensions.Options.Options.Create(options ?? Options())));
}

/// <summary>An audit log in memory: what was recorded, in order.</summary>
internal sealed class InMemoryAuditLog : IOperatorAuditLog
{
    public List<AuditEntry> Entries { get; } = [];

    public Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken)
    {
        lock (Entries)
        {
            Entries.Add(entry);
        }

        return Task.CompletedTask;
    }

    public Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken) =>
        Task.FromResult(new AuditPage(Entries.Where(e => e.At >= query.From && e.At < query.To).OrderByDescending(e => e.At).ToList(), null));

    public Task<IReadOnlyList<AuditEntry>> ForSubjectAsync(string subjectKind, string subject, int max, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<AuditEntry>>(Entries.Where(e => e.SubjectKind == subjectKind && e.Subject == subject).Reverse().Take(max).ToList());
}
