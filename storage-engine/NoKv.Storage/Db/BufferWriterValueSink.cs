using System.Buffers;

namespace NoKv.Storage.Db;

/// <summary>Writes the value into a caller's buffer writer (the allocation-free lookup).</summary>
internal readonly struct BufferWriterValueSink : IValueSink
{
    private readonly IBufferWriter<byte> _writer;

    public BufferWriterValueSink(IBufferWriter<byte> writer) => _writer = writer;

    public void Set(ReadOnlySpan<byte> value) => _writer.Write(value);

    public Span<byte> Reserve(int size) => _writer.GetSpan(size)[..size];

    public void Commit(int size) => _writer.Advance(size);
}
