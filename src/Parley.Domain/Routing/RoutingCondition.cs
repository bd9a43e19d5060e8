using System.Globalization;

namespace Parley.Routing;

/// <summary>
/// What a routing rule may look at for one conversation. <see cref="Claims"/> and
/// <see cref="Context"/> come from the brand's signed token (verified); <see cref="Attributes"/>
/// are what the page passed (unverified) and are only ever read as <c>attribute.*</c>.
/// </summary>
public sealed record RoutingFacts(
    bool Authenticated,
    IReadOnlyDictionary<string, string> Claims,
    IReadOnlyDictionary<string, string> Context,
    IReadOnlyDictionary<string, string> Attributes,
    string? Case,
    Guid DeploymentId);

/// <summary>A routing condition that could not be compiled: what is wrong and where (0-based character offset).</summary>
public sealed class RoutingSyntaxException(string message, int position)
    : Exception($"{message} (at character {position + 1})")
{
    public int Position { get; } = position;
}

/// <summary>
/// A compiled routing condition. The syntax (docs/routing.md):
/// <code>
/// condition  := or
/// or         := and ("or" and)*
/// and        := unary ("and" unary)*
/// unary      := "not" unary | "(" condition ")" | "authenticated" | "true" | "false" | test
/// test       := operand ("exists" | operator literal)
/// operand    := "claim." name | "context." name | "attribute." name | "case" | "deployment"
/// operator   := "==" | "!=" | "&gt;" | "&gt;=" | "&lt;" | "&lt;="
/// literal    := "double-quoted string" | number
/// </code>
/// <c>claim.*</c> and <c>context.*</c> read only verified data (the token's claims and its
/// <c>lwicontexts</c>); <c>attribute.*</c> reads the page's unverified engagement attributes.
/// Ordering operators compare numbers; a value that is not a number never satisfies them.
/// </summary>
public sealed class RoutingCondition
{
    public const int MaxLength = 2000;
    private readonly Node _root;

    private RoutingCondition(string text, Node root)
    {
        Text = text;
        _root = root;
    }

    public string Text { get; }

    /// <summary>Compiles a condition, or throws <see cref="RoutingSyntaxException"/> saying what and where.</summary>
    public static RoutingCondition Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            throw new RoutingSyntaxException($"A condition is at most {MaxLength} characters.", MaxLength);
        }

        var parser = new Parser(text);
        var root = parser.ParseCondition();
        parser.ExpectEnd();
        return new RoutingCondition(text, root);
    }

    public bool Matches(RoutingFacts facts) => _root.Evaluate(facts);

    public override string ToString() => Text;

    private abstract record Node
    {
        public abstract bool Evaluate(RoutingFacts facts);
    }

    private sealed record Constant(bool Value) : Node
    {
        public override bool Evaluate(RoutingFacts facts) => Value;
    }

    private sealed record IsAuthenticated : Node
    {
        public override bool Evaluate(RoutingFacts facts) => facts.Authenticated;
    }

    private sealed record Not(Node Inner) : Node
    {
        public override bool Evaluate(RoutingFacts facts) => !Inner.Evaluate(facts);
    }

    private sealed record And(Node Left, Node Right) : Node
    {
        public override bool Evaluate(RoutingFacts facts) => Left.Evaluate(facts) && Right.Evaluate(facts);
    }

    private sealed record Or(Node Left, Node Right) : Node
    {
        public override bool Evaluate(RoutingFacts facts) => Left.Evaluate(facts) || Right.Evaluate(facts);
    }

    private enum Source
    {
        Claim,
        Context,
        Attribute,
        Case,
        Deployment,
    }

    private sealed record Operand(Source Source, string? Name)
    {
        public string? Read(RoutingFacts facts) => Source switch
        {
            Source.Claim => facts.Claims.GetValueOrDefault(Name!),
            Source.Context => facts.Context.GetValueOrDefault(Name!),
            Source.Attribute => facts.Attributes.GetValueOrDefault(Name!),
            Source.Case => facts.Case,
            _ => facts.DeploymentId.ToString(),
        };
    }

    private sealed record Exists(Operand Operand) : Node
    {
        public override bool Evaluate(RoutingFacts facts) => Operand.Read(facts) is not null;
    }

    private sealed record Compare(Operand Operand, string Operator, string? Text, decimal? Number) : Node
    {
        public override bool Evaluate(RoutingFacts facts)
        {
            var value = Operand.Read(facts);
            if (value is null)
            {
                // A missing value satisfies only "!=".
                return Operator == "!=";
            }

            if (Number is { } number)
            {
                if (!decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var actual))
                {
                    return Operator == "!=";
                }

                return Operator switch
                {
                    "==" => actual == number,
                    "!=" => actual != number,
                    ">" => actual > number,
                    ">=" => actual >= number,
                    "<" => actual < number,
                    _ => actual <= number,
                };
            }

            var equal = Operand.Source == Source.Deployment
                ? string.Equals(value, Text, StringComparison.OrdinalIgnoreCase)
                : string.Equals(value, Text, StringComparison.Ordinal);
            return Operator == "==" ? equal : !equal;
        }
    }

    private sealed class Parser(string text)
    {
        private int _position;

        public Node ParseCondition()
        {
            var left = ParseAnd();
            while (TryKeyword("or"))
            {
                left = new Or(left, ParseAnd());
            }

            return left;
        }

        public void ExpectEnd()
        {
            SkipSpace();
            if (_position < text.Length)
            {
                throw Error($"Unexpected \"{Preview()}\"; expected \"and\", \"or\" or the end of the condition.");
            }
        }

        private Node ParseAnd()
        {
            var left = ParseUnary();
            while (TryKeyword("and"))
            {
                left = new And(left, ParseUnary());
            }

            return left;
        }

        private Node ParseUnary()
        {
            SkipSpace();
            if (TryKeyword("not"))
            {
                return new Not(ParseUnary());
            }

            if (TrySymbol("("))
            {
                var inner = ParseCondition();
                SkipSpace();
                if (!TrySymbol(")"))
                {
                    throw Error("Expected \")\".");
                }

                return inner;
            }

            var start = _position;
            var word = ReadWord();
            switch (word)
            {
                case "authenticated":
                    return new IsAuthenticated();
                case "true":
                    return new Constant(true);
                case "false":
                    return new Constant(false);
                case "case":
                    return ParseTest(new Operand(Source.Case, null));
                case "deployment":
                    return ParseTest(new Operand(Source.Deployment, null));
                case "claim" or "context" or "attribute":
                    if (!TrySymbol("."))
                    {
                        throw Error($"Expected \".\" and a name after \"{word}\", e.g. {word}.customer_tier.");
                    }

                    var nameStart = _position;
                    var name = ReadName();
                    if (name.Length == 0)
                    {
                        _position = nameStart;
                        throw Error($"Expected a name after \"{word}.\".");
                    }

                    var source = word switch { "claim" => Source.Claim, "context" => Source.Context, _ => Source.Attribute };
                    return ParseTest(new Operand(source, name));
                case "":
                    throw Error(_position >= text.Length
                        ? "The condition ends too early; expected a test such as context.msdyn_isvip == \"true\"."
                        : $"Unexpected \"{Preview()}\"; expected a test, \"not\", \"(\" or \"authenticated\".");
                default:
                    _position = start;
                    throw Error($"Unknown name \"{word}\"; use authenticated, claim.NAME, context.NAME, attribute.NAME, case or deployment.");
            }
        }

        private Node ParseTest(Operand operand)
        {
            if (TryKeyword("exists"))
            {
                return new Exists(operand);
            }

            SkipSpace();
            var operatorStart = _position;
            var op = ReadOperator() ?? throw Error("Expected an operator (==, !=, >, >=, <, <=) or \"exists\".");
            SkipSpace();
            var literalStart = _position;
            if (_position < text.Length && text[_position] == '"')
            {
                if (op is not ("==" or "!="))
                {
                    _position = operatorStart;
                    throw Error($"\"{op}\" compares numbers; compare text with == or !=.");
                }

                return new Compare(operand, op, ReadString(), null);
            }

            var number = ReadNumber();
            if (number is null)
            {
                _position = literalStart;
                throw Error("Expected a value: a \"double-quoted string\" or a number.");
            }

            if (operand.Source is Source.Case or Source.Deployment)
            {
                _position = literalStart;
                throw Error($"{(operand.Source == Source.Case ? "case" : "deployment")} is compared with a \"double-quoted\" name.");
            }

            return new Compare(operand, op, null, number);
        }

        private string? ReadOperator()
        {
            foreach (var op in new[] { "==", "!=", ">=", "<=", ">", "<" })
            {
                if (string.CompareOrdinal(text, _position, op, 0, op.Length) == 0)
                {
                    _position += op.Length;
                    return op;
                }
            }

            return null;
        }

        private string ReadString()
        {
            var start = _position;
            _position++;
            var value = new System.Text.StringBuilder();
            while (_position < text.Length)
            {
                var ch = text[_position++];
                if (ch == '"')
                {
                    return value.ToString();
                }

                if (ch == '\\')
                {
                    if (_position >= text.Length || text[_position] is not ('"' or '\\'))
                    {
                        _position--;
                        throw Error("In a string, a backslash escapes only \" and \\.");
                    }

                    ch = text[_position++];
                }

                value.Append(ch);
            }

            _position = start;
            throw Error("The string is not closed with \".");
        }

        private decimal? ReadNumber()
        {
            var start = _position;
            if (_position < text.Length && text[_position] == '-')
            {
                _position++;
            }

            while (_position < text.Length && (char.IsAsciiDigit(text[_position]) || text[_position] == '.'))
            {
                _position++;
            }

            if (decimal.TryParse(text.AsSpan(start, _position - start), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return number;
            }

            _position = start;
            return null;
        }

        private string ReadWord()
        {
            SkipSpace();
            var start = _position;
            while (_position < text.Length && char.IsAsciiLetter(text[_position]))
            {
                _position++;
            }

            return text[start.._position];
        }

        /// <summary>A claim, context variable or attribute name: ASCII letters, digits, "_", "-" and ":".</summary>
        private string ReadName()
        {
            var start = _position;
            while (_position < text.Length && (char.IsAsciiLetterOrDigit(text[_position]) || text[_position] is '_' or '-' or ':'))
            {
                _position++;
            }

            return text[start.._position];
        }

        private bool TryKeyword(string keyword)
        {
            SkipSpace();
            var end = _position + keyword.Length;
            if (end <= text.Length
                && string.CompareOrdinal(text, _position, keyword, 0, keyword.Length) == 0
                && (end == text.Length || !char.IsAsciiLetterOrDigit(text[end]) && text[end] != '_'))
            {
                _position = end;
                return true;
            }

            return false;
        }

        private bool TrySymbol(string symbol)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _position, symbol, 0, symbol.Length) == 0)
            {
                _position += symbol.Length;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private string Preview() => text.Substring(_position, Math.Min(12, text.Length - _position));

        private RoutingSyntaxException Error(string message) => new(message, _position);
    }
}
