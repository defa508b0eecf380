using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using Google.Protobuf;
using static LeakTools.Export.PprofFields;

namespace LeakTools.Export;

/// <summary>
/// Writes a <see cref="PprofProfile"/> as a gzipped perftools.profiles.Profile, the file pprof tools read.
/// Google.Protobuf's CodedOutputStream does the wire format; the field numbers are the schema's
/// (<see cref="PprofFields"/>). Zero values are left out and repeated numbers packed, as proto3 writes them.
/// </summary>
public static class PprofEncoder
{
    public static void Write(Stream destination, PprofProfile profile)
    {
        using var gzip = new GZipStream(destination, CompressionLevel.Optimal, leaveOpen: true);
        using var output = new CodedOutputStream(gzip, leaveOpen: true);
        WriteProfile(output, profile);
        output.Flush();
    }

    /// <summary>The profile without gzip, as protoc --decode reads it.</summary>
    public static byte[] Encode(PprofProfile profile) => Message(output => WriteProfile(output, profile));

    private static void WriteProfile(CodedOutputStream output, PprofProfile profile)
    {
        foreach (PprofProfile.ValueType type in profile.SampleTypes) WriteMessage(output, Profile.SampleType, ValueType(type));
        foreach (PprofProfile.Sample sample in profile.Samples)
        {
            WriteMessage(output, Profile.Sample, Message(o =>
            {
                WritePacked(o, Sample.LocationId, sample.LocationIds);
                WritePacked(o, Sample.Value, sample.Values);
                foreach (PprofProfile.Label label in sample.Labels)
                {
                    WriteMessage(o, Sample.Label, Message(l =>
                    {
                        WriteInt64(l, Label.Key, label.Key);
                        WriteInt64(l, Label.Str, label.Str);
                        WriteInt64(l, Label.Num, label.Num);
                    }));
                }
            }));
        }
        foreach (PprofProfile.Mapping mapping in profile.Mappings)
        {
            WriteMessage(output, Profile.Mapping, Message(o =>
            {
                WriteUInt64(o, Mapping.Id, mapping.Id);
                WriteUInt64(o, Mapping.MemoryStart, mapping.MemoryStart);
                WriteUInt64(o, Mapping.MemoryLimit, mapping.MemoryLimit);
                WriteUInt64(o, Mapping.FileOffset, mapping.FileOffset);
                WriteInt64(o, Mapping.Filename, mapping.Filename);
                WriteInt64(o, Mapping.BuildId, mapping.BuildId);
                WriteBool(o, Mapping.HasFunctions, mapping.HasFunctions);
                WriteBool(o, Mapping.HasFilenames, mapping.HasFilenames);
                WriteBool(o, Mapping.HasLineNumbers, mapping.HasLineNumbers);
            }));
        }
        foreach (PprofProfile.Location location in profile.Locations)
        {
            WriteMessage(output, Profile.Location, Message(o =>
            {
                WriteUInt64(o, Location.Id, location.Id);
                WriteUInt64(o, Location.MappingId, location.MappingId);
                WriteUInt64(o, Location.Address, location.Address);
                WriteMessage(o, Location.Line, Message(l =>
                {
                    WriteUInt64(l, Line.FunctionId, location.Line.FunctionId);
                    WriteInt64(l, Line.LineNumber, location.Line.LineNumber);
                }));
            }));
        }
        foreach (PprofProfile.Function function in profile.Functions)
        {
            WriteMessage(output, Profile.Function, Message(o =>
            {
                WriteUInt64(o, Function.Id, function.Id);
                WriteInt64(o, Function.Name, function.Name);
                WriteInt64(o, Function.SystemName, function.SystemName);
                WriteInt64(o, Function.Filename, function.Filename);
            }));
        }
        // Every entry, "" at 0 too: the indexes are positions in this list.
        foreach (string text in profile.StringTable)
        {
            output.WriteTag(Profile.StringTable, WireFormat.WireType.LengthDelimited);
            output.WriteString(text);
        }
        WriteInt64(output, Profile.TimeNanos, profile.TimeNanos);
        WriteInt64(output, Profile.DurationNanos, profile.DurationNanos);
        WritePacked(output, Profile.Comment, profile.Comments);
        WriteInt64(output, Profile.DefaultSampleType, profile.DefaultSampleType);
    }

    private static byte[] ValueType(PprofProfile.ValueType type) => Message(o =>
    {
        WriteInt64(o, PprofFields.ValueType.Type, type.Type);
        WriteInt64(o, PprofFields.ValueType.Unit, type.Unit);
    });

    /// <summary>A nested message's bytes: the wire format prefixes them with their length, so they are written apart first.</summary>
    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(output);
        }
        return buffer.ToArray();
    }

    private static void WriteMessage(CodedOutputStream output, int field, byte[] message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message));
    }

    private static void WritePacked(CodedOutputStream output, int field, IReadOnlyList<ulong> values)
    {
        if (values.Count == 0) return;
        int length = 0;
        foreach (ulong value in values) length += CodedOutputStream.ComputeUInt64Size(value);
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(length);
        foreach (ulong value in values) output.WriteUInt64(value);
    }

    private static void WritePacked(CodedOutputStream output, int field, IReadOnlyList<long> values)
    {
        if (values.Count == 0) return;
        int length = 0;
        foreach (long value in values) length += CodedOutputStream.ComputeInt64Size(value);
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(length);
        foreach (long value in values) output.WriteInt64(value);
    }

    private static void WriteUInt64(CodedOutputStream output, int field, ulong value)
    {
        if (value == 0) return;
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteUInt64(value);
    }

    private static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        if (value == 0) return;
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    private static void WriteBool(CodedOutputStream output, int field, bool value)
    {
        if (!value) return;
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteBool(value);
    }
}
