using System;
using System.IO;

namespace LeakTools.Procfs;

/// <summary>
/// Hands out the lines of a text as spans over one reusable buffer, so that a 20 MB smaps file is
/// parsed without a string per line. A span is valid only until the next call.
/// </summary>
internal sealed class LineReader
{
    private readonly TextReader _reader;
    private char[] _buffer;
    private int _start;   // first unread char
    private int _end;     // one past the last char read from the reader
    private bool _eof;

    public LineReader(TextReader reader, int initialBufferSize = 64 * 1024)
    {
        _reader = reader;
        _buffer = new char[initialBufferSize];
    }

    /// <summary>Lines of text already in memory: the first <paramref name="length"/> chars of <paramref name="text"/>.</summary>
    public LineReader(char[] text, int length)
    {
        _reader = TextReader.Null;
        _buffer = text;
        _end = length;
        _eof = true;
    }

    /// <summary>1-based number of the line most recently returned.</summary>
    public int LineNumber { get; private set; }

    public bool TryReadLine(out ReadOnlySpan<char> line)
    {
        int searchFrom = _start;
        while (true)
        {
            int newline = _buffer.AsSpan(searchFrom, _end - searchFrom).IndexOf('\n');
            if (newline >= 0)
            {
                int lineEnd = searchFrom + newline;
                line = _buffer.AsSpan(_start, lineEnd - _start);
                _start = lineEnd + 1;
                LineNumber++;
                return true;
            }
            if (_eof)
            {
                if (_start < _end)
                {
                    // A last line without '\n': a truncated file, handed out so the parser can judge it.
                    line = _buffer.AsSpan(_start, _end - _start);
                    _start = _end;
                    LineNumber++;
                    return true;
                }
                line = default;
                return false;
            }
            searchFrom = _end;
            Fill(ref searchFrom);
        }
    }

    private void Fill(ref int searchFrom)
    {
        int pending = _end - _start;
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, pending);
            searchFrom -= _start;
            _start = 0;
            _end = pending;
        }
        if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
        int read = _reader.Read(_buffer, _end, _buffer.Length - _end);
        if (read <= 0) _eof = true;
        else _end += read;
    }
}
