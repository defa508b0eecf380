using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Xml;

namespace LeakTools.Export;

/// <summary>
/// Draws a <see cref="FlameNode"/> tree as a self-contained interactive SVG in the manner of flamegraph.pl:
/// root at the bottom (or at the top for an icicle graph), width proportional to bytes or allocations.
/// Positions are computed here so the picture also renders where scripts do not run; the embedded
/// script redoes the layout when zooming.
/// </summary>
public sealed class FlameGraphSvgWriter
{
    private const double ImageWidth = 1200;
    private const double Pad = 10;
    private const double FrameHeight = 16;
    private const double HeaderHeight = 60;
    private const double FooterHeight = 30;
    private const double CharWidth = 12 * 0.59;
    private const double MinFrameWidth = 0.1;  // narrower frames are invisible; flamegraph.pl drops them too

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public string Title { get; init; } = "Outstanding allocations";

    public FlameGraphWeight Weight { get; init; } = FlameGraphWeight.Bytes;

    public bool Icicle { get; init; }

    private double InnerWidth => ImageWidth - 2 * Pad;

    public void Write(Stream stream, FlameNode root)
    {
        long total = root.WeightOf(Weight);
        if (total <= 0) throw new ArgumentException("The flame graph has nothing to draw.", nameof(root));

        int levels = root.MaxDepth + 1;
        double height = HeaderHeight + levels * FrameHeight + FooterHeight;
        var settings = new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, IndentChars = " " };
        using var xml = XmlWriter.Create(stream, settings);

        xml.WriteStartDocument();
        xml.WriteStartElement("svg", "http://www.w3.org/2000/svg");
        xml.WriteAttributeString("version", "1.1");
        xml.WriteAttributeString("width", Number(ImageWidth));
        xml.WriteAttributeString("height", Number(height));
        xml.WriteAttributeString("viewBox", $"0 0 {Number(ImageWidth)} {Number(height)}");
        xml.WriteAttributeString("data-total", total.ToString(Invariant));
        xml.WriteAttributeString("data-total-bytes", root.Bytes.ToString(Invariant));
        xml.WriteAttributeString("data-total-count", root.Count.ToString(Invariant));
        xml.WriteAttributeString("data-unit", Weight == FlameGraphWeight.Count ? "allocations" : "bytes");
        xml.WriteAttributeString("data-inner-width", Number(InnerWidth));
        xml.WriteAttributeString("data-pad", Number(Pad));
        xml.WriteAttributeString("data-char-width", Number(CharWidth));
        xml.WriteAttributeString("data-orientation", Icicle ? "icicle" : "flame");

        xml.WriteStartElement("style");
        xml.WriteAttributeString("type", "text/css");
        xml.WriteCData(FlameGraphAssets.Style);
        xml.WriteEndElement();

        WriteRect(xml, 0, 0, ImageWidth, height, "#f8f8f8", id: "background");
        WriteText(xml, "title", ImageWidth / 2, 24, Title);
        WriteText(xml, "subtitle", ImageWidth / 2, 44,
            $"{root.Bytes.ToString("N0", Invariant)} bytes in {root.Count.ToString("N0", Invariant)} allocations; width is {(Weight == FlameGraphWeight.Count ? "allocations" : "bytes")}. Hover for details, click to zoom.");
        WriteText(xml, "unzoom", Pad, 24, "Reset zoom", cssClass: "hidden");
        WriteSearchBox(xml);
        WriteText(xml, "details", Pad, height - 10, " ");
        WriteText(xml, "matched", ImageWidth - Pad, height - 10, " ");

        xml.WriteStartElement("g");
        xml.WriteAttributeString("id", "frames");
        WriteFrame(xml, root, 0, total, height);
        xml.WriteEndElement();

        xml.WriteStartElement("script");
        xml.WriteAttributeString("type", "text/ecmascript");
        xml.WriteCData(FlameGraphAssets.Script);
        xml.WriteEndElement();

        xml.WriteEndElement();
        xml.WriteEndDocument();
    }

    private void WriteFrame(XmlWriter xml, FlameNode node, long start, long total, double height)
    {
        long value = node.WeightOf(Weight);
        double width = value / (double)total * InnerWidth;
        if (width < MinFrameWidth) return;
        double x = Pad + start / (double)total * InnerWidth;
        double y = Icicle ? HeaderHeight + node.Depth * FrameHeight : height - FooterHeight - (node.Depth + 1) * FrameHeight;
        string percent = (100.0 * value / total).ToString("F2", Invariant);

        xml.WriteStartElement("g");
        xml.WriteAttributeString("class", "frame");
        xml.WriteAttributeString("data-name", node.Frame.Name);
        if (node.Frame.Module is not null) xml.WriteAttributeString("data-module", node.Frame.Module);
        xml.WriteAttributeString("data-kind", node.Frame.Kind.ToString().ToLowerInvariant());
        xml.WriteAttributeString("data-depth", node.Depth.ToString(Invariant));
        xml.WriteAttributeString("data-start", start.ToString(Invariant));
        xml.WriteAttributeString("data-value", value.ToString(Invariant));
        xml.WriteAttributeString("data-bytes", node.Bytes.ToString(Invariant));
        xml.WriteAttributeString("data-count", node.Count.ToString(Invariant));

        string module = node.Frame.Module is null ? "" : $" ({node.Frame.Module})";
        xml.WriteElementString("title",
            $"{node.Frame.Name}{module}: {node.Bytes.ToString("N0", Invariant)} bytes, {node.Count.ToString("N0", Invariant)} allocations, {percent}%");
        WriteRect(xml, x, y, Math.Max(width - 1, MinFrameWidth), FrameHeight - 1, ColorOf(node.Frame));
        xml.WriteStartElement("text");
        xml.WriteAttributeString("x", Number(x + 3));
        xml.WriteAttributeString("y", Number(y + FrameHeight - 4.5));
        xml.WriteString(Label(node.Frame.Name, width));
        xml.WriteEndElement();
        xml.WriteEndElement();

        long childStart = start;
        foreach (FlameNode child in node.Children)
        {
            WriteFrame(xml, child, childStart, total, height);
            childStart += child.WeightOf(Weight);
        }
    }

    private static void WriteSearchBox(XmlWriter xml)
    {
        xml.WriteStartElement("foreignObject");
        xml.WriteAttributeString("x", Number(ImageWidth - Pad - 240));
        xml.WriteAttributeString("y", "8");
        xml.WriteAttributeString("width", "240");
        xml.WriteAttributeString("height", "24");
        xml.WriteStartElement("input", "http://www.w3.org/1999/xhtml");
        xml.WriteAttributeString("id", "search");
        xml.WriteAttributeString("type", "search");
        xml.WriteAttributeString("placeholder", "Search frames (regex)");
        xml.WriteAttributeString("style", "width: 230px; font: 12px Verdana, sans-serif;");
        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static void WriteRect(XmlWriter xml, double x, double y, double width, double height, string fill, string? id = null)
    {
        xml.WriteStartElement("rect");
        if (id is not null) xml.WriteAttributeString("id", id);
        xml.WriteAttributeString("x", Number(x));
        xml.WriteAttributeString("y", Number(y));
        xml.WriteAttributeString("width", Number(width));
        xml.WriteAttributeString("height", Number(height));
        xml.WriteAttributeString("fill", fill);
        if (id is null) xml.WriteAttributeString("rx", "2");
        xml.WriteEndElement();
    }

    private static void WriteText(XmlWriter xml, string id, double x, double y, string text, string? cssClass = null)
    {
        xml.WriteStartElement("text");
        xml.WriteAttributeString("id", id);
        if (cssClass is not null) xml.WriteAttributeString("class", cssClass);
        xml.WriteAttributeString("x", Number(x));
        xml.WriteAttributeString("y", Number(y));
        xml.WriteString(text);
        xml.WriteEndElement();
    }

    private static string Label(string name, double width)
    {
        int fits = (int)Math.Floor((width - 6) / CharWidth);
        if (fits < 3) return string.Empty;
        return name.Length <= fits ? name : name[..(fits - 2)] + "..";
    }

    /// <summary>
    /// flamegraph.pl's "mem" palette: greens for user frames, oranges for kernel frames, grey for the
    /// root and process frames. The shade comes from a hash of the name, so a function keeps its colour.
    /// </summary>
    private static string ColorOf(FlameFrameName frame)
    {
        uint hash = 2166136261;
        foreach (char c in frame.Name) hash = (hash ^ c) * 16777619;
        double v = (hash % 1000) / 1000.0;
        (int r, int g, int b) = frame.Kind switch
        {
            FlameFrameKind.Kernel => (230, (int)(120 + 70 * v), (int)(30 + 40 * v)),
            FlameFrameKind.Process => ((int)(170 + 30 * v), (int)(170 + 30 * v), (int)(190 + 30 * v)),
            _ => ((int)(40 + 80 * v), (int)(170 + 60 * v), (int)(40 + 70 * v)),
        };
        return $"rgb({r},{g},{b})";
    }

    private static string Number(double value) => Math.Round(value, 2).ToString(Invariant);
}
