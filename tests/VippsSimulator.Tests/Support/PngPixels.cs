using System.IO.Compression;

namespace VippsSimulator.Tests.Support;

/// <summary>
/// Decodes a non-interlaced PNG (grey, palette, RGB or RGBA; bit depth 1-8) to 8-bit luminance for ZXing. ZXing.Net's
/// core has no PNG reader and System.Drawing is not available on Linux, so the test carries this small one.
/// </summary>
public static class PngPixels
{
    public static (byte[] Luminance, int Width, int Height) Decode(byte[] png)
    {
        int width = 0, height = 0, bitDepth = 0, colorType = 0;
        byte[] palette = [];
        using var idat = new MemoryStream();
        for (var offset = 8; offset < png.Length;)
        {
            var length = (png[offset] << 24) | (png[offset + 1] << 16) | (png[offset + 2] << 8) | png[offset + 3];
            var type = System.Text.Encoding.ASCII.GetString(png, offset + 4, 4);
            var data = png.AsSpan(offset + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = (data[0] << 24) | (data[1] << 16) | (data[2] << 8) | data[3];
                    height = (data[4] << 24) | (data[5] << 16) | (data[6] << 8) | data[7];
                    bitDepth = data[8];
                    colorType = data[9];
                    if (data[12] != 0) throw new NotSupportedException("Interlaced PNG");
                    break;
                case "PLTE": palette = data.ToArray(); break;
                case "IDAT": idat.Write(data); break;
            }
            offset += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.CopyTo(inflated);
        var raw = inflated.ToArray();

        var channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => throw new NotSupportedException($"Colour type {colorType}") };
        var bitsPerPixel = channels * bitDepth;
        var stride = (width * bitsPerPixel + 7) / 8;
        var bpp = Math.Max(1, bitsPerPixel / 8);
        var previous = new byte[stride];
        var luminance = new byte[width * height];
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            var line = raw.AsSpan(y * (stride + 1) + 1, stride).ToArray();
            for (var i = 0; i < stride; i++)
            {
                int a = i >= bpp ? line[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                line[i] = (byte)(line[i] + filter switch
                {
                    0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new NotSupportedException($"Filter {filter}"),
                });
            }
            for (var x = 0; x < width; x++) luminance[y * width + x] = Pixel(line, x, bitDepth, colorType, palette);
            previous = line;
        }
        return (luminance, width, height);
    }

    private static byte Pixel(byte[] line, int x, int bitDepth, int colorType, byte[] palette)
    {
        if (colorType is 0 or 3)
        {
            var bit = x * bitDepth;
            var sample = (line[bit / 8] >> (8 - bitDepth - bit % 8)) & ((1 << bitDepth) - 1);
            if (colorType == 3) return (byte)((palette[sample * 3] + palette[sample * 3 + 1] + palette[sample * 3 + 2]) / 3);
            return (byte)(sample * 255 / ((1 << bitDepth) - 1));
        }
        var channels = colorType switch { 2 => 3, 4 => 2, _ => 4 };
        var p = x * channels;
        return colorType == 4 ? line[p] : (byte)((line[p] + line[p + 1] + line[p + 2]) / 3);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
