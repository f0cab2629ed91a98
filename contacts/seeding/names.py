"""Realistic people's names and email addresses for the seeded data sets.

First and last names come from Faker's locale providers (the lists a well-kept library keeps,
some weighted by frequency), in the shares of a multinational customer base: English, German,
French, Spanish, Italian, Portuguese, Dutch, Polish, Swedish, Turkish, Japanese, Chinese and
Korean (romanised), Indian and Russian (romanised) names. Within a locale a name's frequency is
Faker's weight where it has one, and otherwise a Zipf law over the list's order (Faker keeps
some lists by frequency; alphabetical ones are shuffled first, with a fixed seed), so a common
last name is about 1 % of people and a rare one a handful in a million.

Everything is deterministic: the pools are built in a fixed order, and the draws come from the
caller's random.Random.
"""

import importlib
import random
import re
import unicodedata
from bisect import bisect
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, pairwise

# locale: share of people (in %), where the names are, how the names are romanised.
LOCALES = {
    "en_US": 24,
    "en_GB": 8,
    "de_DE": 8,
    "fr_FR": 6,
    "es_ES": 7,
    "it_IT": 5,
    "pt_BR": 4,
    "pt_PT": 2,
    "nl_NL": 4,
    "pl_PL": 4,
    "sv_SE": 3,
    "tr_TR": 3,
    "ja_JP": 3,
    "zh_CN": 5,
    "ko_KR": 2,
    "en_IN": 7,
    "ru_RU": 5,
}
# Provider attributes holding the names, where they are not first_names and last_names
# ("locale.attribute" for another locale's list).
NAME_ATTRIBUTES = {
    # es_ES's surnames are alphabetical, with no frequencies; es_CL's are weighted, and the
    # common Spanish surnames are the same on both sides of the Atlantic.
    "es_ES": ("first_names", "es_CL.last_names"),
    "ja_JP": ("first_romanized_names", "last_romanized_names"),
    "zh_CN": ("first_romanized_names", "last_romanized_names"),
    # pl_PL's last_names is a placeholder; its surnames are by gender, most common first.
    "pl_PL": ("first_names", "male_last_names"),
    # Russian surnames by gender, most common first (last_names mixes both forms).
    "ru_RU": ("first_names", "last_names_male"),
}
# Zipf exponents for the lists Faker keeps without weights: first names spread wider than
# last names (the most common first name is a few % of people, the most common last name 1 %).
FIRST_NAME_EXPONENT = 1.0
LAST_NAME_EXPONENT = 0.9

# Russian: a plain transliteration (as in passports since 2014, without the apostrophes).
# fmt: off
CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
    "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "iu", "ia",
], strict=True))
# Korean: Revised Romanisation of Hangul syllables (initial, vowel, final jamo), with the
# spellings Korean surnames take in passports for the most common ones.
HANGUL_INITIALS = [
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t",
    "p", "h",
]
HANGUL_VOWELS = [
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
    "we", "wi", "yu", "eu", "ui", "i",
]
HANGUL_FINALS = [
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "l", "l", "m", "p",
    "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
]
# fmt: on
KOREAN_SURNAMES = {"김": "Kim", "이": "Lee", "박": "Park", "최": "Choi", "정": "Jung", "조": "Cho"}
# Letters an ASCII address cannot fold to by dropping accents.
ASCII_LETTERS = {"ß": "ss", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i", "þ": "th"}
NAME = re.compile(r"^[^\W\d_]+(?:[ '-][^\W\d_]+)*$")


@dataclass(frozen=True)
class Name:
    """A name as shown, and the forms an email address takes of it (lower case, no spaces or
    apostrophes): in ASCII, and with its own letters (internationalised addresses)."""

    shown: str
    ascii: str
    letters: str


@dataclass(frozen=True)
class NamePool:
    names: tuple[Name, ...]
    cumulative: tuple[float, ...]  # cumulative weights, ending at 1

    def pick(self, rng):
        return self.names[bisect(self.cumulative, rng.random() * self.cumulative[-1])]

    def share(self, index):
        previous = self.cumulative[index - 1] if index else 0.0
        return (self.cumulative[index] - previous) / self.cumulative[-1]


@dataclass(frozen=True)
class Locale:
    code: str
    first: NamePool
    last: NamePool


def romanise(locale, text):
    if locale == "ru_RU":
        return "".join(
            CYRILLIC.get(char.lower(), char).capitalize()
            if char.isupper()
            else CYRILLIC.get(char, char)
            for char in text
        )
    if locale == "ko_KR":
        if text in KOREAN_SURNAMES:
            return KOREAN_SURNAMES[text]
        syllables = []
        for char in text:
            code = ord(char) - 0xAC00
            if not 0 <= code < 11172:
                return ""
            syllables.append(
                HANGUL_INITIALS[code // 588]
                + HANGUL_VOWELS[code % 588 // 28]
                + HANGUL_FINALS[code % 28]
            )
        return "".join(syllables).capitalize()
    return text


def email_forms(shown):
    """(ascii, letters): the name as the part of an address, in ASCII and in its own letters;
    ascii is empty when the name has letters with no ASCII form."""
    letters = unicodedata.normalize("NFC", shown.lower().replace(" ", "").replace("'", ""))
    decomposed = unicodedata.normalize("NFKD", letters)
    folded = "".join(
        ASCII_LETTERS.get(char, char) for char in decomposed if not unicodedata.combining(char)
    )
    return (folded if folded.isascii() else ""), letters


def _weighted(names, weights, exponent):
    """(names, weights) from a Faker list: its own weights, or Zipf over its order, which is
    a frequency order in some lists and alphabetical in others (mostly: accents sort apart),
    which are shuffled first, seeded: their common names are common by lot, not by fact."""
    if weights is None:
        in_order = sum(a.casefold() <= b.casefold() for a, b in pairwise(names))
        if in_order > 0.8 * (len(names) - 1):
            names = list(names)
            random.Random(len(names)).shuffle(names)
        weights = [1 / rank**exponent for rank in range(1, len(names) + 1)]
    return names, weights


def _pool(locale, values, exponent):
    if isinstance(values, dict):
        names, weights = list(values), list(values.values())
    else:
        names, weights = list(values), None
    names, weights = _weighted(names, weights, exponent)
    totals = {}
    for raw, weight in zip(names, weights, strict=True):
        shown = unicodedata.normalize("NFC", romanise(locale, raw).strip())
        # A name an address can be made of: letters, with single spaces, hyphens or
        # apostrophes between them (no digits, dots, tabs or backslashes, which COPY's text
        # format would need escaped).
        if not NAME.match(shown) or len(shown) > 40:
            continue
        totals[shown] = totals.get(shown, 0.0) + weight  # dicts keep the first-seen order
    pool = []
    for shown in totals:
        ascii_form, letters = email_forms(shown)
        pool.append(Name(shown, ascii_form or letters, letters))
    return NamePool(tuple(pool), tuple(accumulate(totals.values())))


def _faker_names(code, source):
    if "." in source:
        code, source = source.split(".")
    return getattr(importlib.import_module(f"faker.providers.person.{code}").Provider, source)


@cache
def locales():
    """The locales with their name pools, and the cumulative shares to pick one by."""
    built = []
    for code in LOCALES:
        first_source, last_source = NAME_ATTRIBUTES.get(code, ("first_names", "last_names"))
        built.append(
            Locale(
                code,
                _pool(code, _faker_names(code, first_source), FIRST_NAME_EXPONENT),
                _pool(code, _faker_names(code, last_source), LAST_NAME_EXPONENT),
            )
        )
    return tuple(built), tuple(accumulate(LOCALES.values()))


def pick_name(rng):
    """(first, last): Names of one person, both of one locale."""
    built, cumulative = locales()
    locale = built[bisect(cumulative, rng.random() * cumulative[-1])]
    return locale.first.pick(rng), locale.last.pick(rng)


def name_shares(kind="last"):
    """{name: share of people} over every locale, most common first."""
    built, cumulative = locales()
    total = cumulative[-1]
    shares = {}
    for locale, locale_share in zip(built, LOCALES.values(), strict=True):
        pool = getattr(locale, kind)
        for index, name in enumerate(pool.names):
            shares[name.shown] = shares.get(name.shown, 0.0) + locale_share / total * pool.share(
                index
            )
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0])))


def most_common_last_name():
    """The last name the most people have (about 1 % of them): a search term that matches
    hundreds in a big company."""
    return next(iter(name_shares("last")))


def rare_last_name(people=500_000, expected=5):
    """A last name about `expected` of `people` people have: a search term that matches a
    handful. The most common of those at or below that share, so it is there at all."""
    target = expected / people
    for name, share in name_shares("last").items():
        if share <= target and len(name) > 3:
            return name
    raise LookupError("No last name is that rare.")


def common_names(count=50):
    """The `count` most common first and last names, as (first names, last names)."""
    return (
        list(name_shares("first"))[:count],
        list(name_shares("last"))[:count],
    )


# Tags people put after a "+" in their address (mail filters).
PLUS_TAGS = ("crm", "work", "vendors", "news", "sales", "it")


class EmailMaker:
    """Addresses at one company's domain, unique ignoring case, without a set of them all.

    The common forms (first.last, flast, first_last, first.l, firstlast, first.last+tag) carry no
    digits; the first `plain_limit` of them a company hands out are checked against a set of
    those handed out (bounded, so memory does not grow with the company), and a repeat gets
    the person's number in the company appended instead. Every address with digits ends in
    that number, which no other person of the company has, and names hold no digits: two
    people's addresses can never be the same.
    """

    def __init__(self, domain, *, international_share=0.3, plain_limit=50_000):
        self.domain = domain
        self.international_share = international_share
        self.plain_limit = plain_limit
        self.plain = set()

    def make(self, rng, number, first, last):
        """The address of the company's `number`-th person, named `first` `last` (Names)."""
        if rng.random() < self.international_share:
            given, family = first.letters, last.letters
        else:
            given, family = first.ascii, last.ascii
        style = rng.random()
        if style < 0.10:
            # Digits by choice (a number from an old system, a second account).
            return f"{given}{family[0]}{number}@{self.domain}"
        if style < 0.55:
            local = f"{given}.{family}"
        elif style < 0.75:
            local = f"{given[0]}{family}"
        elif style < 0.83:
            local = f"{given}_{family}"
        elif style < 0.89:
            local = f"{given}.{family[0]}"
        elif style < 0.95:
            local = f"{given}{family}"
        else:
            local = f"{given}.{family}+{PLUS_TAGS[int(rng.random() * len(PLUS_TAGS))]}"
        key = local.lower()
        if len(self.plain) < self.plain_limit and key not in self.plain:
            self.plain.add(key)
            return f"{local}@{self.domain}"
        # john.smith.17, jsmith17: the number after a name, never after another number.
        separator = "." if style < 0.55 else ""
        return f"{local}{separator}{number}@{self.domain}"
