"""Find an item by what someone typed, forgiving case, accents, plurals, punctuation and order.

"sleeping bags" finds "Sleeping bag", "bache" finds "Bâche", "bag" finds every bag and "duvet"
the item whose French name or one of whose other names (aliases) it is. The exact label, in
either language, always wins; otherwise one match is the item, several are offered as choices
(best first), and none offers the items that share a word with what was typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from ..models import Item
from .errors import NotFound, ServiceError, ValidationError

MAX_CHOICES = 8  # several matches: as many as a phone shows without a long scroll
MAX_NEAR = 5  # no match: the few that share a word
MAX_TYPED_WORDS = 12  # a label has a handful of words; more is pasted text, not a name
PREFIX_FROM = 3  # a typed word this long also matches the words it begins ("sleep")
MAX_ALIASES = 20
MAX_ALIAS_LENGTH = 60
WORD = re.compile(r"[^\W_]+")
LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})

# A typed word's match with an item, best first: its name or size, one of its other names, or
# only the beginning of a word.
OWN, ALIAS, PREFIX = 0, 1, 2

Forms = frozenset[str]


class UnclearItem(ServiceError):
    """What was typed names no one active item; choices are labels the person may pick."""

    def __init__(self, message: object, note: object, typed: str, choices: Sequence[str]) -> None:
        super().__init__(message, {"item": note})
        self.typed = typed
        self.choices = list(choices)


class NoSuchItem(UnclearItem, NotFound):
    """Nothing matches; choices are the items sharing a word, if any."""


class SeveralItems(UnclearItem, ValidationError):
    """Several items match; choices are the best few."""


def words(text: str) -> tuple[str, ...]:
    """Split text into plain lower-case words: no accents, punctuation or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(LIGATURES))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return tuple(WORD.findall(plain))


def word_forms(word: str) -> Forms:
    """Return a word with the singulars it may be under simple English and French plurals."""
    forms = {word}
    endings = (("ies", "y"), ("aux", "al"), ("es", ""), ("s", ""), ("x", ""))
    for ending, singular in endings:
        stem = word.removesuffix(ending)
        # "bus", "gas" and "bas" keep their s: a stem this short is no singular.
        if stem != word and len(stem) >= 3:
            forms.add(stem + singular)
    return frozenset(forms)


def label_key(text: str) -> str:
    """Return a label as compared for an exact match: case and spacing ignored."""
    return " ".join(text.split()).casefold()


def clean_aliases(value: object) -> tuple[list[str], Any]:
    """Return other names, trimmed and without repeats, and the problem with them if any.

    The value is text with one name per line (a form) or a list of names (the API).
    """
    if isinstance(value, str):
        lines = value.splitlines()
    else:
        lines = [str(line) for line in value] if isinstance(value, list | tuple) else []
    names: list[str] = []
    seen: set[str] = set()
    for line in lines:
        name = " ".join(str(line).split())
        if name and label_key(name) not in seen:
            seen.add(label_key(name))
            names.append(name)
    too_long = [name for name in names if len(name) > MAX_ALIAS_LENGTH]
    if too_long:
        return names, _l(
            'at most %(count)d characters each ("%(name)s…" is longer)',
            count=MAX_ALIAS_LENGTH,
            name=too_long[0][:20],
        )
    if len(names) > MAX_ALIASES:
        return names, _l("at most %(count)d other names", count=MAX_ALIASES)
    return names, None


@dataclass(frozen=True, eq=False)  # two entries are the same only when they are one
class _Entry:
    """One item as searched: its words worked out once per search index."""

    item: Item
    key: str
    keys: frozenset[str]
    names: tuple[tuple[Forms, ...], ...]
    size: tuple[Forms, ...]
    aliases: tuple[tuple[Forms, ...], ...]
    own: Forms
    other: Forms
    written: tuple[str, ...]

    @classmethod
    def of(cls, item: Item) -> _Entry:
        # Its name in either language is its own: "Duvet" is the Sleeping bag's French name.
        named = [name for name in (item.name, item.name_fr or "") if name.strip()]
        written = [words(name) for name in named] + [words(item.size)]
        written += [found for alias in item.aliases.splitlines() if (found := words(alias))]
        phrases = [tuple(word_forms(w) for w in phrase) for phrase in written]
        names, size, aliases = phrases[: len(named)], phrases[len(named)], phrases[len(named) + 1 :]
        return cls(
            item=item,
            key=label_key(item.label),
            keys=frozenset(
                label_key(f"{name} ({item.size})" if item.size else name) for name in named
            ),
            names=tuple(names),
            size=size,
            aliases=tuple(aliases),
            own=frozenset().union(*(f for name in names for f in name), *size),
            other=frozenset().union(*(f for alias in aliases for f in alias)),
            written=tuple(w for phrase in written for w in phrase),
        )

    def says(self, typed: Sequence[Forms]) -> bool:
        """Tell whether the typed words are this item's label, or one of its other names."""
        return any(
            len(phrase) == len(typed) and all(a & b for a, b in zip(phrase, typed, strict=True))
            for phrase in (*(name + self.size for name in self.names), *self.aliases)
        )

    def rank(self, typed: Sequence[str], forms: Sequence[Forms]) -> tuple[int, int, str] | None:
        """Return how well every typed word matches (lower is better), or None if one does not."""
        total = 0
        for word, word_as in zip(typed, forms, strict=True):
            match = self._match(word, word_as)
            if match is None:
                return None
            total += match
        return total, self._extra_name_words(forms), self.key

    def shared(self, forms: Sequence[Forms]) -> int:
        """Count the typed words that are words of this item."""
        return sum(1 for word_as in forms if word_as & (self.own | self.other))

    def _match(self, word: str, word_as: Forms) -> int | None:
        if word_as & self.own:
            return OWN
        if word_as & self.other:
            return ALIAS
        if len(word) >= PREFIX_FROM and any(w.startswith(word) for w in self.written):
            return PREFIX
        return None

    def _extra_name_words(self, forms: Sequence[Forms]) -> int:
        # "tent" is a Tent (2-person) before a Tent peg: the size does not count as extra.
        # Of its two names, the one closer to what was typed counts.
        return min(
            (
                sum(1 for word_as in name if not any(word_as & f for f in forms))
                for name in self.names
            ),
            default=0,
        )


class ItemIndex:
    """An organisation's active items, each worked out once, to search many times."""

    def __init__(self, items: Iterable[Item]) -> None:
        self.entries = [_Entry.of(item) for item in items if item.active]

    def find(self, typed: str) -> Item:
        """Return the one item typed, or refuse with the items to choose from."""
        key = label_key(typed)
        for entry in self.entries:
            if key in entry.keys:
                return entry.item
        written = words(typed)[:MAX_TYPED_WORDS]
        forms = [word_forms(word) for word in written]
        if not forms:
            raise self._none(typed, [])
        saying = [entry for entry in self.entries if entry.says(forms)]
        if len(saying) == 1:
            return saying[0].item
        ranked = sorted(
            ((rank, entry) for entry in self.entries if (rank := entry.rank(written, forms))),
            key=lambda pair: pair[0],
        )
        matches = saying + [entry for _, entry in ranked if entry not in saying]
        if len(matches) == 1:
            return matches[0].item
        if matches:
            raise SeveralItems(
                _l('Several items match "%(typed)s": choose one.', typed=typed),
                _l("several items match"),
                typed,
                [entry.item.label for entry in matches[:MAX_CHOICES]],
            )
        raise self._none(typed, self._near(forms))

    def _near(self, forms: Sequence[Forms]) -> list[str]:
        """Return the labels of the items sharing most typed words, if any share one."""
        near = sorted(
            (-shared, entry._extra_name_words(forms), entry.key, entry.item.label)
            for entry in self.entries
            if (shared := entry.shared(forms))
        )
        return [label for *_, label in near[:MAX_NEAR]]

    @staticmethod
    def _none(typed: str, near: list[str]) -> NoSuchItem:
        return NoSuchItem(
            _l("No item called %(label)s. Pick one from the list.", label=typed),
            _l("unknown item"),
            typed,
            near,
        )
