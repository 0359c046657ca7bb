"""Which language to write to a person in.

A person's stated preference (chosen in the page header or through the API) comes first; a
consumer who never chose one is answered in the language they wrote in. Chinese and English are
the languages we ship; an unknown or empty code means "no preference" (mail then goes out in both).
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import get_supported_language_variant

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

#: About how many Han characters make a word, to weigh Chinese against English words.
_HAN_PER_WORD = 1.5


def supported(code: str | None) -> str:
    """The shipped language a code stands for ('zh-cn' → 'zh-hans', 'en-GB' → 'en'), or ''."""
    code = (code or "").strip().replace("_", "-").lower()
    if not code:
        return ""
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return ""


def written_in(text: str) -> str:
    """The language a complaint is mostly written in, by words: Chinese when at least 60% of its
    words are Chinese (a product name in English does not change that), English when at most 30%
    are (a Chinese brand or signature in an English mail does not either), '' when mixed or when
    it has no words at all (numbers, emoji)."""
    han = len(_HAN.findall(text or "")) / _HAN_PER_WORD
    latin = len(_LATIN_WORD.findall(text or ""))
    if not han + latin:
        return ""
    share = han / (han + latin)
    return "zh-hans" if share >= 0.6 else "en" if share <= 0.3 else ""


def preferred(user) -> str:
    """The shipped language the user chose, or ''."""
    return supported(getattr(user, "preferred_language", "")) if user is not None else ""


def for_person(user, text: str = "") -> str:
    """A person's language: their preference, else the language of what they wrote, else ''."""
    return preferred(user) or written_in(text)


def activate_for(request, user) -> None:
    """Answer this request in the language `user` chose, if they chose one (the page middleware
    for sessions, the API's bearer authentication for tokens)."""
    code = preferred(user)
    if code:
        translation.activate(code)
        request.LANGUAGE_CODE = code


def join_clauses(parts) -> str:
    """Clauses in one sentence, joined as the active language writes them ("a; b", "a；b")."""
    return translation.pgettext("separator between clauses of a sentence", "; ").join(str(p) for p in parts)


def join_items(parts) -> str:
    """Items of a list, joined as the active language writes them ("a, b", "a、b")."""
    return translation.pgettext("separator between items of a list", ", ").join(str(p) for p in parts)
