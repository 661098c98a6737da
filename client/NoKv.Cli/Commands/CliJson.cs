using System.Text;
using System.Text.Json;

namespace NoKv.Cli.Commands;

/// <summary>Writes the JSON documents of <c>--output json</c>: one document per command (per frame for <c>watch</c>), snake_case keys.</summary>
internal static class CliJson
{
    public static string Write(Action<Utf8JsonWriter> body, bool indented = true)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            body(json);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>The error document: <c>{"error": {"code": "...", "message": "..."}}</c>.</summary>
    public static string Error(string code, string message) => Write(json =>
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("code", code);
        json.WriteString("message", message);
        json.WriteEndObject();
        json.WriteEndObject();
    });

    public static void StringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    public static void NumberOrNull(Utf8JsonWriter json, string name, ulong? value)
    {
        if (value is { } v)
        {
            json.WriteNumber(name, v);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
