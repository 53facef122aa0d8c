"""The analyzers of languages other than English (``ingest.analysis`` registers them by language code).

* Latin-script languages with spaces: Malay and Indonesian (Snowball ``indonesian``: OpenSearch's Indonesian
  analyzer uses the same stemmer), Turkish (Turkish lower case, then Snowball ``turkish``), Dutch (Snowball
  ``dutch``): English's word patterns, pairs and compounds, NFC first so a decomposed letter stays in its word.
* Scripts cut by ICU word breaks (PyICU): Thai (dictionary segmentation, no spaces between words), Bengali
  (spaces, but vowel signs and the joiners U+200C/U+200D inside words, which ``\\w`` and ``INVISIBLE`` would cut or
  drop), Chinese (dictionary words, plus the character bigrams of every run of Han characters, as Lucene's
  ``cjk_bigram``, so a query word that ICU cut differently from the text still matches). No stemmer.
"""

from __future__ import annotations

import re
import unicodedata

from ingest.analysis_base import TERM_WORD, Analyzer, pairs

# Invisible marks that only split words, without the zero-width (non-)joiners Bengali (and Indic) spelling needs.
INVISIBLE_BUT_JOINERS = re.compile("[\u200b\u200e\u200f\u202a-\u202e\u2060\ufeff]")
INVISIBLE_ALL = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff]")
HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
THAI = "\u0e00-\u0e7f"
BENGALI = "\u0980-\u09ff"
# A run of Han characters, white space inside it ignored (a text broken across lines keeps its bigrams).
HAN_RUN = re.compile(f"[{HAN}]+(?:\\s+[{HAN}]+)*")
HAN_CHAR = re.compile(f"[{HAN}]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
# ICU rule status of a word break: below 100 the segment is space or punctuation, not a word.
_WORD_STATUS = 100


class LatinAnalyzer(Analyzer):
    """A space-separated Latin-script language: English's word patterns with another stemmer and stop words."""

    def __init__(self, name: str, stemmer: str | None, stopwords: frozenset[str], lower_map: dict | None = None) -> None:
        super().__init__(name, stemmer, stopwords)
        self._lower_map = lower_map

    def normalize(self, text: str) -> str:
        text = INVISIBLE_ALL.sub("", unicodedata.normalize("NFC", text))
        if self._lower_map:
            text = text.translate(self._lower_map)
        return text.lower()


# Turkish case rules (ICU's Locale("tr") lower case): dotted capital İ is i, dotless capital I is ı. str.lower()
# would make "i̇" (i and a combining dot) of İ and "i" of I.
TURKISH_LOWER = str.maketrans({"İ": "i", "I": "ı"})


class SegmentingAnalyzer(Analyzer):
    """Words by ICU word breaks (dictionary segmentation where the script has no spaces), no stemmer.

    ICU cuts the words of its own script; any other ICU word (Latin, digits) is cut again by English's word
    pattern, so Latin words inside these texts are cut the way every analyzer cuts them.
    """

    def __init__(self, name: str, locale: str, script: str, stopwords: frozenset[str] = frozenset(),
                 form: str = "NFC") -> None:
        super().__init__(name, None, stopwords)
        self.locale = locale
        self.own = re.compile(f"[{script}]")
        self.form = form

    def normalize(self, text: str) -> str:
        return INVISIBLE_BUT_JOINERS.sub("", unicodedata.normalize(self.form, text)).lower()

    def _breaker(self):
        import icu

        bi = getattr(self._local, "breaker", None)
        if bi is None:
            bi = self._local.breaker = icu.BreakIterator.createWordInstance(icu.Locale(self.locale))
        return bi

    def icu_words(self, normalized: str) -> list[str]:
        """ICU's word segments of the text (spaces and punctuation left out)."""
        if not normalized:
            return []
        bi = self._breaker()
        if _ASTRAL.search(normalized):  # ICU counts UTF-16 units: cut a UnicodeString instead
            import icu

            us = icu.UnicodeString(normalized)
            bi.setText(us)
            cut = lambda a, b: str(us[a:b])  # noqa: E731
        else:
            bi.setText(normalized)
            cut = lambda a, b: normalized[a:b]  # noqa: E731
        out = []
        a = bi.first()
        for b in bi:
            if bi.getRuleStatus() >= _WORD_STATUS:
                out.append(cut(a, b))
            a = b
        return out

    def term_words(self, normalized: str) -> list[str]:
        out: list[str] = []
        for w in self.icu_words(normalized):
            if self.own.search(w):
                out.append(w)
            else:
                out.extend(TERM_WORD.findall(w))
        return out

    def words(self, text: str) -> list[str]:
        return self.term_words(self.normalize(text))

    def terms(self, text: str) -> list[str]:
        stems = self._content_stems(self.normalize(text))
        return stems + pairs(stems)


class ThaiAnalyzer(SegmentingAnalyzer):
    """Thai: ICU's dictionary words and their pairs. A quoted phrase is compared character for character."""

    spaceless = True

    def required_terms(self, phrase: str) -> list[str]:
        """None: ICU may cut the phrase's words differently inside a longer text, and a phrase compared character
        for character may start or end inside a text's word, so no term is certain to be one of every text that
        holds the phrase (the searcher then checks its candidates)."""
        return []


class ChineseAnalyzer(SegmentingAnalyzer):
    """Chinese: the character bigrams of every Han run (a lone Han character as itself), ICU's words of three
    or more characters, and the other words (Latin, digits). NFKC folds full-width letters and digits."""

    spaceless = True

    def __init__(self) -> None:
        super().__init__("zh", "zh", HAN, form="NFKC")

    def terms(self, text: str) -> list[str]:
        t = self.normalize(text)
        out = han_bigrams(t, singles=True)
        for w in self.term_words(t):
            if not HAN_CHAR.search(w) or len(w) >= 3:
                out.append(w)
        return out

    def required_terms(self, phrase: str) -> list[str]:
        """The bigrams of the phrase's Han runs: any text holding the phrase (character for character) holds its
        runs inside its own, so their bigrams, whatever ICU made of them. A lone Han character is left out (inside a
        longer run the text indexes only its bigrams), and so are ICU's words and Latin words (the phrase may start
        or end inside a text's word)."""
        return sorted(set(han_bigrams(self.normalize(phrase), singles=False)))


def han_bigrams(normalized: str, singles: bool) -> list[str]:
    """Each two adjacent Han characters of every Han run (white space inside a run ignored); a run of one
    character as itself when ``singles``."""
    out: list[str] = []
    for m in HAN_RUN.finditer(normalized):
        run = "".join(m.group().split())
        if len(run) == 1:
            if singles:
                out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


# Short stop-word lists: the commonest function words of legislative text, left out of pairs (BM25's idf keeps
# them from mattering as single words). Thai, Chinese and Bengali have none.
MALAY_STOPWORDS = frozenset("dan yang di ke dari atau dalam ini itu oleh pada bagi untuk dengan adalah ialah tidak".split())
TURKISH_STOPWORDS = frozenset("ve veya ile bir bu şu da de için olan olarak gibi her ya".split())
DUTCH_STOPWORDS = frozenset("de het een en van in op te voor met aan die dat is of".split())

MALAY = LatinAnalyzer("ms", "indonesian", MALAY_STOPWORDS)
TURKISH = LatinAnalyzer("tr", "turkish", TURKISH_STOPWORDS, lower_map=TURKISH_LOWER)
DUTCH = LatinAnalyzer("nl", "dutch", DUTCH_STOPWORDS)
THAI_ANALYZER = ThaiAnalyzer("th", "th", THAI)
CHINESE = ChineseAnalyzer()
BENGALI_ANALYZER = SegmentingAnalyzer("bn", "bn", BENGALI)

# Analyzers of the scripts whose runs are cut by their own analyzer in a text of any language.
SCRIPT_ANALYZERS = {"th": THAI_ANALYZER, "zh": CHINESE, "bn": BENGALI_ANALYZER}
