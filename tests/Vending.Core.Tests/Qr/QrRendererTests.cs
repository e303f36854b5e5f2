using Vending.Core.Qr;

namespace Vending.Core.Tests.Qr;

public class QrRendererTests
{
    private readonly QrRenderer _renderer = new();

    [Fact]
    public void Svg_is_a_scalable_svg_document()
    {
        var svg = _renderer.Svg("https://qr.vipps.example/pay/abc", 300);

        var document = System.Xml.Linq.XDocument.Parse(svg);
        Assert.Equal("svg", document.Root!.Name.LocalName);
        Assert.NotNull(document.Root.Attribute("viewBox"));
        Assert.True(document.Root.Descendants().Any(), "the code draws its modules");
    }

    [Theory]
    [InlineData(100)]
    [InlineData(400)]
    [InlineData(2000)]
    public void Png_is_a_png_no_larger_than_asked_and_grows_with_the_size(int size)
    {
        var png = _renderer.Png("https://qr.vipps.example/pay/abc", size);

        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var width = (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19]; // IHDR
        Assert.InRange(width, Math.Min(size, 29) / 2, size);
        Assert.True(width > size / 2 || size < 60);
    }

    [Fact]
    public void Different_content_gives_a_different_code()
    {
        Assert.NotEqual(_renderer.Svg("https://a.example/1", 200), _renderer.Svg("https://a.example/2", 200));
    }
}
