namespace Vending.Core.Operator.Access;

/// <summary>The operator actions the audit trail records.</summary>
public static class OperatorActions
{
    public const string Provision = "provision";
    public const string Rotate = "rotate";
    public const string Disable = "disable";
    public const string Enable = "enable";
    public const string Refund = "refund";
    public const string Retry = "retry";
    public const string Release = "release";
    public const string WebhookEnsure = "webhook_ensure";
}

/// <summary>One operator action: who, when, on what, the request id and the outcome (HTTP status and problem code).</summary>
public sealed record AuditEntry(
    DateTimeOffset At,
    string Action,
    string SubjectKind,
    string? Subject,
    string ActorKind,
    string ActorName,
    string? ActorObjectId,
    string RequestId,
    int Status,
    string Outcome);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, string? ContinuationToken);

/// <summary><c>from</c> inclusive, <c>to</c> exclusive; newest first.</summary>
public sealed record AuditQuery(DateTimeOffset From, DateTimeOffset To, int PageSize, string? ContinuationToken);

public interface IOperatorAuditLog
{
    Task RecordAsync(AuditEntry entry, CancellationToken cancellationToken);

    Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken cancellationToken);

    /// <summary>A sale's (<c>sale</c>) or machine's (<c>machine</c>) operator history, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> ForSubjectAsync(string subjectKind, string subject, int max, CancellationToken cancellationToken);
}

/// <summary>What an audit query may ask for: the HTTP reader refuses more, and the log serves no more.</summary>
public static class AuditQueryLimits
{
    public const int MaxPageSize = 200;

    /// <summary>A range longer than this is refused: it would mean reading a partition per day for longer.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(92);
}

/// <summary>What an audit entry is about.</summary>
public static class AuditSubjects
{
    public const string Sale = "sale";
    public const string Machine = "machine";
    public const string Webhooks = "webhooks";
}
