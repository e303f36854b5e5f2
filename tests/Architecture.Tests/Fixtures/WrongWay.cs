// Deliberate violations, compiled into this test assembly only, so the rules are seen to fail on real IL (LayerTests).

namespace Architecture.Tests.Fixtures.Cycle.First
{
    public sealed class UsesSecond
    {
        public Second.UsesFirst? Other { get; set; }
    }
}

namespace Architecture.Tests.Fixtures.Cycle.Second
{
    public sealed class UsesFirst
    {
        public int Count(First.UsesSecond first) => first.Other is null ? 0 : 1;

        public Third.UsesFirstToo? Next { get; set; }
    }
}

namespace Architecture.Tests.Fixtures.Cycle.Third
{
    /// <summary>Closes a second, longer cycle through First: both must be reported.</summary>
    public sealed class UsesFirstToo
    {
        public First.UsesSecond? Back { get; set; }
    }
}

namespace Architecture.Tests.Fixtures.Domain
{
    /// <summary>A "domain" type that reaches for the storage layer: what the layer rule must refuse.</summary>
    public static class ReachesForStorage
    {
        public static string TableOf(Vending.Core.Storage.VendingTables tables) => tables.GetType().Name;
    }
}
