namespace Parley;

/// <summary>
/// What Parley takes as text from outside (messages, names, page attributes, search terms): no C0
/// control characters, except tab, line feed and carriage return where line breaks belong (a
/// message). U+0000 above all: PostgreSQL's <c>text</c> and <c>jsonb</c> cannot hold it, so one
/// stored NUL would fail every later query that reads its row. Checked here, before storage, so
/// both databases refuse the same input with the same clear error.
/// </summary>
public static class PlainText
{
    /// <summary>Where the first character Parley does not take is, or -1.</summary>
    public static int IndexOfControl(string value, bool lineBreaks = false)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c < ' ' && !(lineBreaks && c is '\t' or '\n' or '\r'))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>What is wrong with <paramref name="value"/>, naming <paramref name="what"/> and the character, or null.</summary>
    public static string? Problem(string what, string? value, bool lineBreaks = false) =>
        value is not null && IndexOfControl(value, lineBreaks) is var at and >= 0
            ? $"{what} contains a control character (U+{(int)value[at]:X4}){(lineBreaks ? "; only tab and line breaks are allowed" : "")}. Remove it and send again."
            : null;
}
