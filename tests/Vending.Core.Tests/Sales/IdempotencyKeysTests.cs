using System.Text.RegularExpressions;

namespace Vending.Core.Tests.Sales;

public sealed partial class IdempotencyKeysTests
{
    [GeneratedRegex("^[A-Za-z0-9-]{1,50}$")]
    private static partial Regex ValidKey();

    public static TheoryData<string, string> Inputs() => new()
    {
        { "vm17-000123", "capture" },
        { "vm17-000123", "refund-2" },
        { new string('r', 64), "capture" },
        { "A1-" + new string('x', 61), "cancel" },
        { "vm17-000123", "an operation with spaces and æøå" },
        { "----------", "capture" },
        { "vm17-000123", new string('o', 200) },
    };

    [Theory]
    [MemberData(nameof(Inputs))]
    public void A_key_is_deterministic_short_and_made_of_allowed_characters(string reference, string operation)
    {
        var key = IdempotencyKeys.For(reference, operation);

        Assert.Equal(key, IdempotencyKeys.For(reference, operation));
        Assert.Matches(ValidKey(), key);
    }

    [Fact]
    public void A_short_key_stays_readable()
    {
        Assert.Equal("vm17-000123-capture", IdempotencyKeys.For("vm17-000123", "capture"));
    }

    [Fact]
    public void A_long_reference_gets_a_hashed_key_of_exactly_50_characters_that_keeps_a_readable_prefix()
    {
        var key = IdempotencyKeys.For("machine-0042-sale-" + new string('9', 40), "capture");

        Assert.Equal(50, key.Length);
        Assert.StartsWith("machine0042sale", key, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a-b", "c", "a", "b-c")]
    [InlineData("vm17-000123", "capture", "vm17-000123", "cancel")]
    [InlineData("vm17-000123", "refund1", "vm17-000124", "refund1")]
    [InlineData("ab", "c", "a", "bc")]
    public void Distinct_inputs_give_distinct_keys(string reference1, string operation1, string reference2, string operation2)
    {
        Assert.NotEqual(IdempotencyKeys.For(reference1, operation1), IdempotencyKeys.For(reference2, operation2));
    }

    [Fact]
    public void Long_references_that_differ_only_at_the_end_give_distinct_keys()
    {
        var prefix = new string('r', 63);
        var keys = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
            .SelectMany(last => new[] { "capture", "cancel", "refund1", "refund2" }.Select(op => IdempotencyKeys.For(prefix + last, op)))
            .ToList();

        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void A_readable_key_never_equals_a_hashed_one()
    {
        // The hashed form is 50 characters; a reference-operation pair that is exactly 50 characters long must hash too.
        var reference = new string('r', 42);
        var key = IdempotencyKeys.For(reference, "capture");

        Assert.Equal(50, key.Length);
        Assert.NotEqual($"{reference}-capture", key);
        Assert.True(IdempotencyKeys.For(new string('r', 41), "capture").Length < 50);
    }

    [Theory]
    [InlineData("", "capture")]
    [InlineData("vm17-000123", "")]
    public void Empty_inputs_are_refused(string reference, string operation)
    {
        Assert.Throws<ArgumentException>(() => IdempotencyKeys.For(reference, operation));
    }
}
