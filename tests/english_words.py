"""Find English left on a page meant to be French: its visible text, and English words in it.

A page's visible text is its text nodes (outside script, style, code and pre) and the few
attributes a reader sees or hears: title, aria-label, placeholder, alt, and the value of a
button-like input. A text node is English when it holds a word of ENGLISH, a list of common
English words that are not also French words ("on", "a", "plan", "stock", "site", "date",
"total", "note", "distribution", "donation" are French too, so they are not in it).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Common English words of this interface's kind that French does not spell the same way.
_WORDS = """
    about above accept accepted access account accounts add added address addresses adds advance
    affected after afternoon again aid alert alerts all allowed already also altered always
    amber amendment amendments amount and another any anyone anything appeal appears appendix
    apply archived are area areas ask asked asks at attached attempts automatic available away

    back background backup backups bag bags bailiff based basis be because bedding been before
    being belongings belongs below between biggest black blanket body both bottle bottles bottom
    bring browser button by

    call called came camera can cancel cancelled cannot carried carries carry carrying
    categories category changed channel channels character characters chart check checked
    checking checks choice choose chooses choosing chosen clear close closed closes clothing
    columns come comes comma committed compute computed configured confirm contains contaminated
    continued cook cooked cooking coordinator coordinators copy corrected corrects could count
    counted counting counts cover covered create created creates critical criticals current

    daily damaged damp dashes data database dated day days deactivate deactivated default delete
    deleted deliveries delivery destroyed detail details device devices did dietary differ
    difference different digest digits directly dish disrupted divided do does done donor donors
    down download drinking drop due during

    each earlier eased edit effect either else empties empty end ended ending ends engine enough
    enter entered error errors escalated estimate estimated estimates evening event every
    everything eviction evictions evidence exactly example exists expected expired expires
    explains

    failed far feed few fewer fields filled fills filter find finds fingerprint fire first fixed
    folder follow food for forbidden forgot form forms found french fri from full

    gas generated get give given gives glance go goes goods got group

    had hand handled happen happened happens has have he head headcount header held help here
    hide high highlighted his history hold holds host hour hours how hygiene

    identified if imported in include included including incoming incomplete ingredient
    ingredients inside install instead interpreter interrupted into invalid invited involved is
    it item items its itself

    join just

    keep kept keyed kind kinds kitchen kitchens know

    language larger largest last lasts later latest lead least leave leaves ledger left leftover
    leftovers legal less lets letters level levels like limit line lines link links list listed
    listing lists live lives lock locked log logged logging login logistics logs longer loss
    losses lost low lower

    made mailed mails make makes many march margin matches may meal meals mean means member
    members memory might minors missing monday month monthly more morning most mould move moved
    movement movements moving much must my

    name names naming nationalities need needed needs negative never new newer next no nobody
    none not nothing now nowhere number numbers nuts

    observers of off offered old older once one only open opened optional other others otherwise
    our out outcome over own

    packed packs password past path people per percent period person phone pick picture pictured
    piece pieces planned please present previous print prints private problem problems purchase
    put

    qty quantities quantity

    raw reach reaches reactivate read readable readers reads ready really reason receive
    received receives recent recipe recipes recommended record recorded records recurring red
    refer refusing reload reloads rely remember remove removed removes repeat replace
    replacement replaces report reported reports request required reset resolve resolved rest
    restore restored retired retype reversal reverse reversed reversing review reviewed reviews
    revoke revoked revokes right role roles roll rolls round rounded row rows run runs

    same sat save saved saving say says schedule scheduled search see seen seized seizure
    seizures select semicolon send sends separate separated separately series served server set
    settings several severity share shared sheet shelf shelter shelters shoes shop short
    shortage shortages shorter shortfall shortfalls should show showing shown shows side sides
    sideways sign signed signs since size sizes skip slashed sleeping small smaller so some
    someone something soon sorry speaking split spoilage spoiled spreadsheet spreadsheets start
    started starting starts state status stays still stocktake stolen stopped stops stored
    submit such sun sunday swipe switch switched system

    take taken takes tap target tarpaulin ten tent terms text than that the theft their them
    then there these they thing this those three through thu thumbnail time times title to today
    token tokens tomorrow too tool tools town tracker transfer try turn twice two typed typing

    unchanged under understood undo unit unknown unless unplanned unsets untick until up update
    updated upload uploaded us use used user uses using

    valid value values vegetarian video volunteer volunteers

    waiting wanted warehouse warehouses warning warnings was water way we weather wed week
    weekday weekdays weekly weeks welcome well went were what when where whether which while who
    whole whom whose why width will with withdraw withdrawn within without witnesses women words
    works worse would write written wrong

    year years yes yet you your yours yourself

    zero
"""
ENGLISH = frozenset(_WORDS.split())
# An English possessive or contraction ("organisation's", "don't"); French elides the other way.
ENGLISH_APOSTROPHE = re.compile(r"[^\W\d_](?:'|’)(?:s|t|ll|re|ve|d)\b")
WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
SKIPPED_TAGS = frozenset({"script", "style", "code", "pre", "template"})
SEEN_ATTRIBUTES = ("title", "aria-label", "placeholder", "alt")
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


class _VisibleText(HTMLParser):
    """Collect the text a reader of a page sees, one entry per text node or read attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skipping = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self.skipping += 1
            return
        values = dict(attrs)
        if tag == "input" and (values.get("type") or "text").lower() == "hidden":
            return
        for name in SEEN_ATTRIBUTES:
            self._add(values.get(name))
        if tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUTS:
            self._add(values.get("value"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SKIPPED_TAGS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self._add(data)

    def _add(self, text: str | None) -> None:
        folded = " ".join((text or "").split())
        if folded:
            self.texts.append(folded)


def visible_texts(html: str) -> list[str]:
    """Return a page's visible text nodes and read attributes, whitespace folded."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return parser.texts


# Machine names a French page quotes as they are: JSON keys and events in quotes, CSV column
# names in « », addresses, URLs, HTTP headers, and the word e-mail, which French uses too.
MACHINE_TOKENS = re.compile(
    r'"[^"]*"|«[^»]*»|\S+@\S+|https?://\S+|\b[\w-]+\.(?:org|com|net)\b|\bX-[\w-]+|\be-mails?\b',
    re.IGNORECASE,
)


def english_words(text: str) -> list[str]:
    """Return the English words of a text (lower case), and any English possessive in it."""
    found = []
    for word in WORD.findall(MACHINE_TOKENS.sub(" ", text).lower()):
        found += [piece for piece in word.split("-") if piece in ENGLISH]
    return found + [match.group(0) for match in ENGLISH_APOSTROPHE.finditer(text)]


class DataText:
    """Tell data (names, notes, numbers, dates) from interface text, and strip it out."""

    def __init__(self, values: set[str]) -> None:
        self.values = sorted({value for value in values if len(value) >= 2}, key=len, reverse=True)
        self.cache: dict[str, str] = {}

    def strip(self, text: str) -> str:
        """Return the text without the data it quotes (longest first) and without figures."""
        if text not in self.cache:
            rest = text
            bare = text.strip(" .…")
            if len(bare) >= 3 and any(bare in value for value in self.values):
                rest = ""  # a note or a name cut short for a list
            for value in self.values:
                if value in rest:
                    rest = rest.replace(value, " ")
            self.cache[text] = re.sub(r"\d[\d\s.,:/\u202f\u00a0]*", " ", rest)
        return self.cache[text]

    def english(self, text: str) -> list[str]:
        """Return the English words of a text once the data it quotes is taken out."""
        if not english_words(text):  # most French text: no need to look for data in it
            return []
        return english_words(self.strip(text))
