"""Churn-intent signals in agents' free-text notes, Hebrew and English, by a transparent lexicon.

Six signal classes (the same as `sample_data.notes.SIGNALS`):

| class | what the note says |
|---|---|
| `cancel_intent` | the customer wants to cancel, disconnect, close the account, leave |
| `competitor` | a competitor, another provider, a better offer elsewhere, switching |
| `price` | too expensive, a price rise, cannot afford, asks for a discount |
| `moving` | moving house / abroad, relocating, no coverage at the new address |
| `dissatisfaction` | angry, frustrated, unresolved again, long hold, no-show technician |
| `billing` | charged twice, wrong amount, refund, billed for something not ordered |

A note fires a class when one of the class's *phrases* matches and none of its *negations*
does ("does not want to cancel", "לא רוצה לבטל", "cancelled the technician visit"). A note
may fire several classes or none. Both languages' phrases are applied to every note, so
mixed Hebrew/English notes work.

Hebrew morphology, handled in the patterns rather than by a stemmer:
- one-letter prefixes (ו ה ש ב ל מ כ, up to three stacked: "ושהמתחרה") may precede a word;
- final letters (ך ם ן ף ץ) change form when a suffix follows (חשבון / חשבונית), so a stem
  ending in one is written with both forms (`_he_final`);
- spelling with or without matres lectionis (ביטול / בטול) is written as an optional י/ו.

The patterns use only the regular-expression subset shared by Python's `re` and RE2 (the
engine behind DuckDB's `regexp_matches`): no look-around, no `\\b` or `\\w` (RE2's are
ASCII-only, Python's Unicode), explicit letter classes instead. So `classify_note` (Python)
and `note_signal_columns` (Ibis, run inside the database) agree on every note — a unit
test checks it on the labelled set.

Measured precision / recall per class: `evaluate_lexicon` on `tests/data/labelled_notes.csv`
(template-rendered notes and hand-written ones, reported separately in the model card).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import ibis

NOTE_SIGNALS: tuple[str, ...] = (
    "cancel_intent",
    "competitor",
    "price",
    "moving",
    "dissatisfaction",
    "billing",
)

# Plain-language names, used in driver texts ("note mentions a competitor").
SIGNAL_PHRASES: dict[str, str] = {
    "cancel_intent": "wants to cancel",
    "competitor": "mentions a competitor",
    "price": "complains about price",
    "moving": "says they are moving",
    "dissatisfaction": "expresses dissatisfaction",
    "billing": "reports a billing error",
}

_HE = "א-ת"  # the Hebrew letters, finals included (U+05D0..U+05EA)
_HE_PREFIX = f"[והשבלמכ]{{0,3}}"
_FINALS = {"ך": "כ", "ם": "מ", "ן": "נ", "ף": "פ", "ץ": "צ"}


def _he_final(stem: str) -> str:
    """A stem ending in a final letter matches both the final and the medial form."""
    if stem and stem[-1] in _FINALS:
        return f"{stem[:-1]}[{stem[-1]}{_FINALS[stem[-1]]}]"
    return stem


@dataclass(frozen=True)
class SignalLexicon:
    """One class's phrases and negations, per language (regular-expression fragments)."""

    en: tuple[str, ...]
    he: tuple[str, ...]
    en_negations: tuple[str, ...] = ()
    he_negations: tuple[str, ...] = ()


# Fragments are matched after a word start: English ones after a non-letter (so "cancel"
# also matches "cancelled", but "scancel" does not), Hebrew ones after a non-Hebrew-letter
# and optional prefixes. Endings are left open on purpose (suffixes, plural, gender).
LEXICON: dict[str, SignalLexicon] = {
    "cancel_intent": SignalLexicon(
        en=(
            r"canc[ea]l+(ing|ed|ation|s)?",
            r"cancle",
            r"terminat(e|ion|ing)",
            r"clos(e|ing) (the |his |her |my |their )?(ac+ount|subscription|line)",
            r"end (the |his |her |my |their )?(contract|subscription)",
            r"(threaten[a-z]*|wants?|will|going|plans?|planning|intends?) (to )?leave",
            r"(wants?|wanting|asked|asks|requested|requests|going|plans?) to (be )?disconnect",
            r"disconnect (me|him|her|us|them|the (line|service|account))",
            r"wants? out",
            r"wants? to quit",
            r"done with us",
            r"transferred to retention",
            r"stop (the |his |her |my |their )?(service|subscription|contract|account|line)",
            r"discontinu",
            r"shut (down|off) (the |his |her |my |their )?(line|service|account)",
            r"(not|won'?t|never) (going to )?renew",
            r"last month with us",
            r"port(ing)?[- ]?(out|code)",
        ),
        he=(
            r"בי?טו?ל",          # לבטל, ביטול, מבטל, ביטל
            r"התנתק",            # להתנתק, מתנתק
            r"לנתק",
            r"ני?תוק (של )?ה?(קו|שירות|מנוי|חשבו[ןנ])",
            r"עו?זו?ב",          # לעזוב, עוזב, עזב
            r"(סגור|סוגר|סוגרת|סגירת) (את )?ה?(חשבו[ןנ]|מנוי|קו)",
            r"(סיים|מסיימים|לסיים|סיום) (את )?ה?(חוזה|התחייבות|מנוי)",
            r"קנס יציאה",
            r"מחלקת שימור",
            r"(להפסיק|מפסיק|מפסיקה|מפסיקים|הפסקת) (את )?ה?(שירות|מנוי|חבילה|התקשרות|חוזה)",
            r"סיום ה?התקשרות",
            r"לא (מתכוו[ןנ]ת? |רוצה |מעוניי[ןנ]ת? )?לחדש",
            r"ני?וד",            # number porting: ניוד, לניוד
            r"חודש אחרון",
        ),
        en_negations=(
            r"(not|n't|never|no longer|no intention of|no plans? to|decided not to)"
            r"( (want|wanting|wish|plan|planning|intend|intending|going))?( to)? "
            r"(canc|leav|terminat|disconnect|clos)",
            r"withdr[ae]w[^.,;]{0,20}canc",
            r"decided to stay",
            r"(prefers?|wants?|decided|will) to stay",
            r"no cancel+ation( request| needed)?([,.;]|$)",
            r"canc[ea]l+(ed|ing|s)? (the |his |her |a |an |my |their )?(old |extra |second )?"
            r"(technician|appointment|visit|order|meeting|call|payment|alias|e-?mail|direct debit|"
            r"standing order|add-?on)",
        ),
        he_negations=(
            r"לא (רוצה |מתכוו[ןנ]ת? |מעוניי[ןנ]ת? |מתכנ[ןנ]ת? |הולכת? )?ל?(בטל|עזוב|התנתק)",
            r"(חזר בו|חזרה בה)",
            r"נשאר[הת]? (איתנו|אצלנו)",
            r"(בי?טל|ביטלה|בי?טול|לבטל) (את )?ה?(ביקור|פגישה|תור|הזמנה|הוראת|תוספת|ערוץ)",
            r"לא (י|ת)בטל",
        ),
    ),
    "competitor": SignalLexicon(
        en=(
            r"compet",  # competitor, competition (and the typo "competiton")
            r"(other|another) (company|provider|operator|isp|carrier)",
            r"switch(ing|ed)? (to |provider|operator|company|carrier)",
            r"better (offer|deal)",
            r"offers? from (other|another)",
            r"other (providers|companies|operators)",
            r"(bezeq|cellcom|partner|golan|hot mobile)([^a-z]|$)",
        ),
        he=(
            r"מתחר",             # מתחרה, מתחרים, המתחרה, למתחרה
            r"חברה (אחרת|מתחרה)",
            r"חברה ה?שני(יה|ה)",
            r"ספק(ים)? אחר(ים)?",
            r"חברות אחרות",
            r"הצעה טובה יותר",
            r"(בזק|סלקום|פרטנר|הוט|גולן)([^א-ת]|$)",
        ),
    ),
    "price": SignalLexicon(
        en=(
            r"too (expensive|pricey)",
            r"expen[cs]ive",
            r"(price|fee|bill|cost)s? (is |are )?(too )?(high|up)",
            r"(price|fee|bill|cost)s? (keeps? )?(went|going|gone|goes) up",
            r"price (increase|rise|hike)",
            r"(increase|raise)[ds]? the price",
            r"(can'?t|cannot|could not|couldn'?t) afford",
            r"(want|wants|asked for|asking for|looking for|needs?)( a)? (lower|cheaper)",
            r"cheaper (plan|package|option)",
            r"discount",
            r"pay(s|ing)? (way )?(too much|more than)",
            r"(charge|price|fee|rate|bill|cost)s?[^.,;]{0,20}(ridiculous|absurd|outrageous|not acceptable|unacceptable|unfair)",
            r"lower (her|his|my|the|their|our) (bill|price|rate|fee)",
            r"tight budget",
        ),
        he=(
            r"יקר(ה|ים|ות)?([^א-ת]|$)",
            r"התי?יקר",           # התייקר, ההתייקרות
            r"העלאת ה?מחיר",
            r"ה?מחיר (עלה|גבוה)",
            r"ה?חשבו[ןנ] עלה",
            r"הנחה",
            r"לעמוד( יותר)? בתשלום",
            r"(לא יכול(ה)?|קשה (לו|לה)) לשלם",
            r"משל(ם|מת|מים) יותר מדי",
            r"(מחיר|חשבו[ןנ]|תעריף)[^.,;]{0,12}(לא הוגן|מופקע|מוגזם|לא מוצדק)",
            r"להוריד את ה?(חשבו[ןנ]|מחיר|תשלום)",
            r"העלאה ב(חשבו[ןנ]|מחיר)",
        ),
    ),
    "moving": SignalLexicon(
        en=(
            r"moving (abroad|house|home|out|away)",
            r"moving to (a |an |the )?(new|another|north|south|center)",
            r"move (abroad|house|out of)",
            r"relocat",
            r"new (address|apartment|home|flat)",
            r"outside (our|the) coverage",
            r"no coverage",
            r"emigrat",
            r"leaving (israel|the country)",
        ),
        he=(
            r"עובר(ת|ים)? (דירה|לגור|לאזור|לחו.?ל|לעיר|לצפון|לדרום|למרכז)",
            r"מעבר דירה",
            r"רילוקיישן",
            r"יורד(ת|ים)? מהארץ",
            r"כתובת (מגורים )?חדשה",
            r"משנה כתובת מגורים",
            r"כי?סוי",            # coverage (at the new address)
        ),
    ),
    "dissatisfaction": SignalLexicon(
        en=(
            r"frustrat",
            r"angry",
            r"annoyed",
            r"furious",
            r"upset",
            r"unhappy",
            r"not happy",
            r"disappointed",
            r"terrible",
            r"awful",
            r"horrible",
            r"fed up",
            r"not (been )?(resolved|fixed)",
            r"no fix",
            r"(second|third|fourth|fifth|[0-9]+(st|nd|rd|th)) (time|call)",
            r"waited [0-9]+",
            r"on hold",
            r"(did not|didn'?t|never) (arrive|show)",
            r"(wants?|asked for|demands?)( to speak to| to talk to)? (a |the )?(manager|supervisor)",
            r"(nobody|no one|no-one) called back",
            r"(shout|yell|scream)",
            r"a joke",
            r"still (doesn'?t|does not|not) work",
            r"(nobody|no one|nothing) (fixes|works|helps)",
            r"([0-9]+|several|many|multiple) tickets",
            r"constant (disconnect|outage|drop)",
        ),
        he=(
            r"מתוסכל",
            r"כועס",
            r"עצבני",
            r"לא מרוצ",
            r"מאוכזב",
            r"גרוע",
            r"(עדיין|שוב) לא (נפתר|טופל|תוקן|הגיע)",
            r"לא נפתר",
            r"פעם (שנייה|שלישית|רביעית|חמישית|ה?[0-9]+)",
            r"חיכ(ה|תה|יתי)[^.,;]{0,12}(דקות|שעה|שעות)",
            r"על הקו",
            r"לא הגיע",
            r"ביקש(ה)? מנהל",
            r"אף אחד לא חזר",
            r"אין פתרו[ןנ]",
            r"נופל",
            r"צעק",
            r"זוועה",
            r"(בלי|אין) אינטרנט",
            r"אף אחד לא (עוזר|חוזר|עונה)",
        ),
    ),
    "billing": SignalLexicon(
        en=(
            r"charged twice",
            r"double[ -]?charge",
            r"over-?charg",
            r"(wrong|incorrect) (amount|charge|bill|invoice)",
            r"(charge|bill|invoice)[^.,;]{0,20}(wrong|incorrect|error|mistake)",
            r"refund",
            r"billed (for|twice)",
            r"money back",
            r"never ordered",
            r"didn'?t order",
            r"charged for[^.,;]{0,30}(never|not|didn'?t)",
            r"(taken|debited|deducted|charged|paid) twice",
            r"(invoice|bill|amount)[^.,;]{0,25}(doesn'?t|does not|not) match",
            r"reverse[^.,;]{0,15}(fee|charge)",
            r"billing (error|mistake)",
        ),
        he=(
            r"חויב(ה)? (פעמיים|על)",
            r"חיוב (כפול|יתר|שגוי)",
            r"חייבו אות",
            r"סכום (שגוי|לא נכו[ןנ])",
            r"טעות ב(חשבו[ןנ]|חיוב)",
            r"החזר( כספי)?([^א-ת]|$)",
            r"זיכוי",
            r"לא הזמי[ןנ]",
            r"ירד[^.,;]{0,15}פעמיים",
            r"חיוב על[^.,;]{0,30}(שלא|לא)",
            r"(חשבונית|חשבו[ןנ])[^.,;]{0,10}לא תואמ",
        ),
    ),
}


def _alternation(fragments: Iterable[str]) -> str:
    return "|".join(f"(?:{f})" for f in fragments)


def _pattern(en: tuple[str, ...], he: tuple[str, ...]) -> str | None:
    parts = []
    if en:
        parts.append(f"(?:^|[^a-z])(?:{_alternation(en)})")
    if he:
        parts.append(f"(?:^|[^{_HE}]){_HE_PREFIX}(?:{_alternation(_he_final(f) for f in he)})")
    if not parts:
        return None
    # (?i) for English; Hebrew has no case. Both engines read the inline flag.
    return "(?i)" + "|".join(f"(?:{p})" for p in parts)


@dataclass(frozen=True)
class CompiledSignal:
    name: str
    positive: str
    negative: str | None

    def matches(self, text: str) -> bool:
        if not re.search(self.positive, text):
            return False
        return self.negative is None or not re.search(self.negative, text)


def compiled_signals(lexicon: Mapping[str, SignalLexicon] = LEXICON) -> list[CompiledSignal]:
    """Each class's positive and negation pattern as one regular expression string."""
    out = []
    for name in NOTE_SIGNALS:
        lex = lexicon[name]
        positive = _pattern(lex.en, lex.he)
        assert positive is not None
        out.append(CompiledSignal(name, positive, _pattern(lex.en_negations, lex.he_negations)))
    return out


_COMPILED = compiled_signals()


def classify_note(text: str | None) -> frozenset[str]:
    """The signal classes a note fires (empty for a neutral or missing note)."""
    if not text:
        return frozenset()
    return frozenset(s.name for s in _COMPILED if s.matches(text))


def note_signal_columns(note: ibis.StringValue) -> dict[str, ibis.BooleanValue]:
    """Per class, an Ibis boolean that is true when the note fires it (false for NULL).

    The same patterns as `classify_note`, evaluated by the database's regex engine, so
    millions of notes are classified without leaving DuckDB.
    """
    out: dict[str, ibis.BooleanValue] = {}
    for s in _COMPILED:
        hit = note.notnull() & note.re_search(s.positive)
        if s.negative is not None:
            hit = hit & ~note.re_search(s.negative)
        out[s.name] = hit.fill_null(False)
    return out


@dataclass(frozen=True)
class SignalScore:
    """Precision and recall of one class on one set of labelled notes."""

    signal: str
    support: int  # notes labelled with the class
    predicted: int  # notes the lexicon fires the class on
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else float("nan")

    @property
    def recall(self) -> float:
        return self.true_positives / self.support if self.support else float("nan")


def parse_label(label: str) -> frozenset[str]:
    """'competitor|price' -> {'competitor', 'price'}; 'neutral' -> {}."""
    parts = {p.strip() for p in label.split("|") if p.strip()}
    unknown = parts - set(NOTE_SIGNALS) - {"neutral"}
    if unknown:
        raise ValueError(f"unknown note label(s) {sorted(unknown)}; use {NOTE_SIGNALS} or 'neutral'")
    return frozenset(parts - {"neutral"})


def evaluate_lexicon(texts: Iterable[str], labels: Iterable[str]) -> dict[str, SignalScore]:
    """Per-class precision/recall of `classify_note` against labels (multi-label, one
    binary decision per class and note)."""
    support = dict.fromkeys(NOTE_SIGNALS, 0)
    predicted = dict.fromkeys(NOTE_SIGNALS, 0)
    tp = dict.fromkeys(NOTE_SIGNALS, 0)
    for text, label in zip(texts, labels, strict=True):
        truth = parse_label(label)
        fired = classify_note(text)
        for s in NOTE_SIGNALS:
            support[s] += s in truth
            predicted[s] += s in fired
            tp[s] += s in truth and s in fired
    return {s: SignalScore(s, support[s], predicted[s], tp[s]) for s in NOTE_SIGNALS}


# The labelled note set the lexicon is measured on (tests/data/labelled_notes.csv: text,
# language, label, source). Its `source` column tells template-rendered notes from
# hand-written ones; the model card reports each source separately.
LABELLED_NOTES_PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "labelled_notes.csv"


def evaluate_labelled_notes(path: str | Path = LABELLED_NOTES_PATH) -> dict[str, dict[str, SignalScore]]:
    """Precision/recall per class for each `source` of the labelled set, plus "all
    handwritten" (every source but `template`). Empty when the file is absent (an
    installation without the test data)."""
    path = Path(path)
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_source: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_source.setdefault(row["source"], []).append(row)
    handwritten = [r for r in rows if r["source"] != "template"]
    if handwritten:
        by_source["all_handwritten"] = handwritten
    return {source: evaluate_lexicon([r["text"] for r in part], [r["label"] for r in part])
            for source, part in by_source.items()}
