namespace Feedback.Analysis.Local.Model;

/// <summary>
/// What a support lead reads in a message regardless of its wording: an unresolved problem, praise and a
/// complaint in separate clauses, a request without praise. The model applies these as fixed logit shifts
/// (<see cref="TrainedModel.Logits"/>), not as learned features: the public data sets label factual problem
/// reports inconsistently (developers' "fails with error" is neutral in GitHub comments), while in product
/// feedback a report that something crashes or fails is a complaint.
/// </summary>
internal readonly record struct CuePriors(int Problems, bool PraiseAndComplaint, bool RequestWithoutPraise);

/// <summary>Finds the problem cues of <see cref="CuePriors"/>, per clause.</summary>
internal static class ProductCues
{
    /// <summary>A problem cue this many tokens after a negation ("no lag", "never crashes") is not a problem.</summary>
    private const int NegationReach = 3;

    /// <summary>
    /// Reports of breakage, slowness, failed logins, wrong charges and things users cannot find. English, plus the commonest forms in
    /// Spanish, German and French (the model's data is English only). No entry names a product.
    /// </summary>
    private static readonly PhraseTable<int> Problems = new(new[]
    {
        "crash*", "keeps crashing", "freezes", "froze", "frozen", "freezing", "hangs", "fails", "failed", "failing",
        "failure", "error", "errors", "error message", "broken", "broke", "buggy", "glitch*", "bug", "bugs",
        "doesnt work", "does not work", "didnt work", "did not work", "dont work", "not working", "isnt working",
        "stopped working", "stopped arriving", "stopped syncing", "stopped loading", "no longer works", "quit working",
        "wont load", "wont open", "wont start", "doesnt load", "doesnt open", "not loading", "not syncing", "wont sync",
        "cant log in", "cannot log in", "cant login", "cannot login", "unable to log in", "unable to login",
        "cant sign in", "cannot sign in", "unable to sign in", "cant access", "cannot access", "cant open",
        "cant save", "cannot save", "cant upload", "cannot upload", "unable to",
        "logs me out", "logged me out", "kicks me out", "keeps logging me out", "nothing happens", "does nothing",
        "not responding", "unresponsive", "white screen", "blank screen", "black screen", "stuck", "lost my",
        "lost all", "deleted my", "disappear*", "unusable", "unstable", "flaky", "outage", "is down", "went down",
        "went wrong", "still broken", "not fixed", "still not fixed", "still not working",
        "slow", "slower", "sluggish", "laggy", "lag", "lags", "lagging", "takes forever", "takes ages",
        "took forever", "forever to", "too slow", "timeout", "timeouts", "times out", "timed out", "drains",
        "overheat*",
        "charged twice", "charged me twice", "double charged", "billed twice", "overcharged", "charged again",
        "charged after", "charged me", "billed again", "want a refund", "want my money back", "money back",
        "hard to find", "hard to read", "hard to use", "difficult to find", "difficult to use", "cant find",
        "cannot find", "couldnt find", "never find", "impossible to", "confusing", "unintuitive",
        "too many clicks", "buried",
        "se cierra", "se bloquea", "no funciona", "no carga", "lento", "lenta", "cobrado dos veces",
        "stürzt", "abgestürzt", "funktioniert nicht", "geht nicht", "langsam", "zweimal abgebucht",
        "ne fonctionne pas", "ne marche pas", "plante", "lent", "lente", "facturé deux fois",
    }.Select(p => new KeyValuePair<string, int>(p, 1)));

    /// <summary>Words that say the problem in the clause is over: "the crash is fixed", "no more lag".</summary>
    internal static readonly HashSet<string> Resolved = new(StringComparer.Ordinal)
    {
        "fixed", "fixing", "resolved", "solved", "gone", "anymore", "sorted", "disappeared",
    };

    /// <summary>Counts unresolved, unnegated problem cues; sets a bit per clause (up to 64) that has one.</summary>
    public static int FindProblems(TokenizedText text, FeatureVector vector, out ulong clauses)
    {
        clauses = 0;
        var count = 0;
        for (var c = 0; c < vector.ClauseCount; c++)
        {
            int first = vector.ClauseFirstToken(c), last = vector.ClauseLastToken(c);
            if (IsResolved(text, vector, first, last))
            {
                continue;
            }

            var i = first;
            while (i <= last)
            {
                if (text.Key(i).Length > 0 && MatchesProblem(text, vector, i, out var match) && i + match.Length - 1 <= last)
                {
                    if (!IsNegated(vector, first, i))
                    {
                        count++;
                        clauses |= c < 64 ? 1UL << c : 0;
                    }

                    i += match.Length;
                }
                else
                {
                    i++;
                }
            }
        }

        return count;
    }

    /// <summary>The first words of the problem phrases (<see cref="TokenKinds.ProblemStart"/>).</summary>
    public static IReadOnlyList<string> ProblemFirstWords => Problems.FirstWords;

    private static bool MatchesProblem(TokenizedText text, FeatureVector vector, int i, out PhraseTable<int>.Entry match) =>
        (vector.KindsOf(i) & TokenKinds.ProblemStart) != TokenKinds.None ? Problems.TryMatch(text, i, out match) : Problems.TryMatchPrefix(text.Key(i), out match);

    /// <summary>The clause (up to 64) that holds token <paramref name="token"/>.</summary>
    public static int ClauseOf(FeatureVector vector, int token)
    {
        for (var c = 0; c < vector.ClauseCount; c++)
        {
            if (token <= vector.ClauseLastToken(c))
            {
                return c;
            }
        }

        return Math.Max(0, vector.ClauseCount - 1);
    }

    private static bool IsResolved(TokenizedText text, FeatureVector vector, int first, int last)
    {
        for (var i = first; i <= last; i++)
        {
            var kinds = vector.KindsOf(i);
            if ((kinds & TokenKinds.Resolved) != TokenKinds.None || ((kinds & TokenKinds.No) != TokenKinds.None && i < last && text.Key(i + 1).SequenceEqual("more")))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsNegated(FeatureVector vector, int clauseStart, int at)
    {
        for (var i = Math.Max(clauseStart, at - NegationReach); i < at; i++)
        {
            if ((vector.KindsOf(i) & (TokenKinds.Negation | TokenKinds.No)) != TokenKinds.None)
            {
                return true;
            }
        }

        return false;
    }
}
