using System;
using System.Collections.Generic;
using System.IO;
using LeakTools.Unwinding;
using Xunit;

namespace LeakTools.Tests.Unwinding;

/// <summary>Call frame information built byte by byte: the rules a walk needs, and malformed input refused with a clear error.</summary>
public class CfiParserTests
{
    private const ulong SectionAddress = 0x2000;
    private const uint FunctionStart = 0x1000;

    // DW_CFA_def_cfa rsp 8; DW_CFA_offset ra at CFA-8 (data alignment -8).
    private static readonly byte[] CieInstructions = { 0x0c, 0x07, 0x08, 0x90, 0x01 };

    [Fact]
    public void PushRbpThenFramePointerGivesTheRowsAWalkNeeds()
    {
        // advance 1; def_cfa_offset 16; rbp at CFA-16; advance 3; def_cfa_register rbp
        var table = Table(new byte[] { 0x41, 0x0e, 0x10, 0x86, 0x02, 0x43, 0x0d, 0x06 });
        Assert.Equal(new UnwindRow(FunctionStart, UnwindRowKind.Rsp, 8, 0), table.Lookup(FunctionStart));
        Assert.Equal(new UnwindRow(FunctionStart + 1, UnwindRowKind.Rsp, 16, -2), table.Lookup(FunctionStart + 2));
        Assert.Equal(new UnwindRow(FunctionStart + 4, UnwindRowKind.Rbp, 16, -2), table.Lookup(FunctionStart + 0x3f));
        Assert.Equal(UnwindRowKind.Unknown, table.Lookup(FunctionStart + 0x40).Kind);   // past the FDE
        Assert.Equal(UnwindRowKind.Unknown, table.Lookup(FunctionStart - 1).Kind);      // before it
    }

    [Fact]
    public void RememberAndRestoreStateAndUndefinedReturnAddress()
    {
        // advance 1; cfa+16; remember; advance 1; cfa+32; advance 1; restore_state; advance 1; undefined ra
        var table = Table(new byte[] { 0x41, 0x0e, 0x10, 0x0a, 0x41, 0x0e, 0x20, 0x41, 0x0b, 0x41, 0x07, 0x10 });
        Assert.Equal(32, table.Lookup(FunctionStart + 2).CfaOffset);
        Assert.Equal(16, table.Lookup(FunctionStart + 3).CfaOffset);
        Assert.Equal(UnwindRowKind.EndOfStack, table.Lookup(FunctionStart + 4).Kind);
    }

    [Fact]
    public void CfaInAnotherRegisterOrAnExpressionIsUnknown()
    {
        // advance 1; def_cfa r10 0 (stack realignment); advance 1; def_cfa_expression breg6 -8 deref
        var table = Table(new byte[] { 0x41, 0x0c, 0x0a, 0x00, 0x41, 0x0f, 0x03, 0x76, 0x78, 0x06 });
        Assert.Equal(UnwindRowKind.Unknown, table.Lookup(FunctionStart + 1).Kind);
        Assert.Equal(UnwindRowKind.Unknown, table.Lookup(FunctionStart + 2).Kind);
    }

    [Theory]
    [InlineData(new byte[] { 0x20 }, "Unknown call frame instruction 0x20")]
    [InlineData(new byte[] { 0x0b }, "DW_CFA_restore_state without a remembered state")]
    [InlineData(new byte[] { 0x0c, 0x07 }, "ends inside a record")]
    [InlineData(new byte[] { 0x0f, 0x7f, 0x00 }, "ends inside a record")]
    [InlineData(new byte[] { 0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "LEB128 value longer than 10 bytes")]
    public void MalformedInstructionsAreRefused(byte[] instructions, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Table(instructions));
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void RecordsThatPointOutsideTheSectionAreRefused()
    {
        byte[] section = EhFrame(new byte[] { 0x41 });
        // The FDE's CIE pointer aimed before the section.
        byte[] badCie = (byte[])section.Clone();
        BitConverter.GetBytes(0x7fff0000).CopyTo(badCie, CieLength + 4);
        Assert.Contains("outside", Assert.Throws<InvalidDataException>(() => new CfiParser(badCie, SectionAddress, false).ParseAll()).Message);
        // A length past the end of the section.
        byte[] tooLong = (byte[])section.Clone();
        BitConverter.GetBytes(0x1000).CopyTo(tooLong, CieLength);
        Assert.Contains("past the end", Assert.Throws<InvalidDataException>(() => new CfiParser(tooLong, SectionAddress, false).ParseAll()).Message);
        // Cut inside the FDE.
        Assert.Throws<InvalidDataException>(() => new CfiParser(section[..(CieLength + 10)], SectionAddress, false).ParseAll());
    }

    private const int CieLength = 24;

    private static UnwindTable Table(byte[] fdeInstructions) =>
        UnwindTable.FromFdes(new CfiParser(EhFrame(fdeInstructions), SectionAddress, false).ParseAll(), "test")!;

    /// <summary>One CIE ("zR", pc-relative sdata4 addresses) and one FDE covering 0x40 bytes from <see cref="FunctionStart"/>.</summary>
    private static byte[] EhFrame(byte[] fdeInstructions)
    {
        var cie = new List<byte> { 0, 0, 0, 0, 1, (byte)'z', (byte)'R', 0, 1, 0x78, 16, 1, 0x1b };
        cie.AddRange(CieInstructions);
        while ((cie.Count + 4) % 8 != 0) cie.Add(0);
        var section = new List<byte>(BitConverter.GetBytes(cie.Count));
        section.AddRange(cie);
        Assert.Equal(CieLength, section.Count);

        int fdeStart = section.Count;
        var fde = new List<byte>(BitConverter.GetBytes(fdeStart + 4));   // CIE pointer: back to offset 0
        int pcBeginPosition = fdeStart + 8;
        fde.AddRange(BitConverter.GetBytes((int)(FunctionStart - (SectionAddress + (ulong)pcBeginPosition))));
        fde.AddRange(BitConverter.GetBytes(0x40));
        fde.Add(0);   // augmentation data length
        fde.AddRange(fdeInstructions);
        section.AddRange(BitConverter.GetBytes(fde.Count));
        section.AddRange(fde);
        section.AddRange(new byte[4]);   // terminator
        return section.ToArray();
    }
}
