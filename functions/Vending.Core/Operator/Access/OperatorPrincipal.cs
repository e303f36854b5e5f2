namespace Vending.Core.Operator.Access;

/// <summary>What a caller of the operator routes may do. <see cref="Viewer"/> reads; <see cref="Operator"/> also changes.</summary>
public enum OperatorRole
{
    Viewer,
    Operator,
}

/// <summary>How the caller proved who it is.</summary>
public enum OperatorCallerKind
{
    /// <summary>A person signed in with Entra ID; the platform passed their principal (<c>x-ms-client-principal</c>).</summary>
    User,

    /// <summary>Automation sending the operator key as <c>x-functions-key</c> (or <c>?code=</c>): no person, full rights.</summary>
    FunctionKey,
}

/// <summary>The caller of an operator route, as the audit trail records it.</summary>
public sealed record OperatorPrincipal(OperatorCallerKind Kind, string Name, string? ObjectId, OperatorRole Role)
{
    public const string OperatorRoleName = "Vending.Operator";
    public const string ViewerRoleName = "Vending.Viewer";

    /// <summary>What the audit trail says for a call made with the key: there is no person to name.</summary>
    public const string FunctionKeyName = "function key";

    public static OperatorPrincipal FunctionKey { get; } = new(OperatorCallerKind.FunctionKey, FunctionKeyName, null, OperatorRole.Operator);

    public bool CanChange => Role == OperatorRole.Operator;
}
