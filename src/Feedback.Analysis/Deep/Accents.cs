namespace Feedback.Analysis.Deep;

/// <summary>
/// BERT's uncased tokenizer strips accents (Unicode NFD, then drops the combining marks) before it looks words up:
/// its vocabulary has "facturacion", not "facturación", and a word with a letter it lacks becomes [UNK] whole. With
/// invariant globalization .NET does not decompose, so the Latin letters with accents are mapped here, as NFD would.
/// </summary>
internal static class Accents
{
    // U+00C0-U+024F: every letter whose canonical decomposition is one base letter and combining marks (Python's
    // unicodedata, NFD), paired with that letter. Letters with no decomposition (ß, ø, æ, đ) stay, as BERT keeps them.
    private const string Accented = "ÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖÙÚÛÜÝàáâãäåçèéêëìíîïñòóôõöùúûüýÿĀāĂăĄąĆćĈĉĊċČčĎďĒēĔĕĖėĘęĚěĜĝĞğĠġĢģĤĥĨĩĪīĬĭĮįİĴĵĶķĹĺĻļĽľŃńŅņŇňŌōŎŏŐőŔŕŖŗŘřŚśŜŝŞşŠšŢţŤťŨũŪūŬŭŮůŰűŲųŴŵŶŷŸŹźŻżŽžƠơƯưǍǎǏǐǑǒǓǔǕǖǗǘǙǚǛǜǞǟǠǡǢǣǦǧǨǩǪǫǬǭǮǯǰǴǵǸǹǺǻǼǽǾǿȀȁȂȃȄȅȆȇȈȉȊȋȌȍȎȏȐȑȒȓȔȕȖȗȘșȚțȞȟȦȧȨȩȪȫȬȭȮȯȰȱȲȳ";
    private const string Plain = "AAAAAACEEEEIIIINOOOOOUUUUYaaaaaaceeeeiiiinooooouuuuyyAaAaAaCcCcCcCcDdEeEeEeEeEeGgGgGgGgHhIiIiIiIiIJjKkLlLlLlNnNnNnOoOoOoRrRrRrSsSsSsSsTtTtUuUuUuUuUuUuWwYyYZzZzZzOoUuAaIiOoUuUuUuUuUuAaAaÆæGgKkOoOoƷʒjGgNnAaÆæØøAaAaEeEeIiIiOoOoRrRrUuUuSsTtHhAaEeOoOoOoOoYy";

    private const char First = '\u00C0';
    private static readonly char[] Map = BuildMap();

    public static string Strip(string text)
    {
        var at = text.AsSpan().IndexOfAnyInRange(First, (char)(First + Map.Length - 1));
        if (at < 0)
        {
            return text;
        }

        return string.Create(text.Length, (text, at), static (span, state) =>
        {
            state.text.AsSpan().CopyTo(span);
            for (var i = state.at; i < span.Length; i++)
            {
                var offset = span[i] - First;
                if ((uint)offset < (uint)Map.Length)
                {
                    span[i] = Map[offset];
                }
            }
        });
    }

    private static char[] BuildMap()
    {
        var map = new char[0x0250 - First];
        for (var i = 0; i < map.Length; i++)
        {
            map[i] = (char)(First + i);
        }

        for (var i = 0; i < Accented.Length; i++)
        {
            map[Accented[i] - First] = Plain[i];
        }

        return map;
    }
}
