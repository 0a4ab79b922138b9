"""Message text rules: cleaning, length, `@name` mentions, `$SYMBOL` tokens, links, emoji.

Messages are stored as plain text exactly as typed (after cleaning), never as HTML and never
HTML-escaped: the API returns the text as-is and every client renders it as text (DOM
`textContent`), so `<script>` or `onerror=` in a message is shown, not run. Links are not
markup either: `links` lists the http(s) URLs found in the text, the only ones a client may
turn into anchors (`javascript:` and other schemes never are).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from apps.rooms.models import MAX_MESSAGE_LENGTH

MAX_SYMBOLS_PER_MESSAGE = 20
MAX_LINKS_PER_MESSAGE = 20
MAX_EMOJI_LENGTH = 32  # Reaction.emoji

# Bidirectional embedding, override and isolate controls: they make text display in an
# order other than the stored one (e.g. a link that reads differently from where it goes).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEEP = frozenset("\n\t")


def text_clean(text: str) -> str:
    """Line ends normalised to `\\n`; control characters (other than newline and tab) and
    bidi overrides removed; surrounding whitespace stripped. Nothing else changes: `<`, `&`
    and quotes stay as typed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = (
        ch
        for ch in text
        if ch in _KEEP or (unicodedata.category(ch) != "Cc" and ch not in _BIDI_CONTROLS)
    )
    return "".join(kept).strip()


def body_validate(body: str, *, allow_empty: bool = False) -> str:
    """The cleaned body, or ValidationError on `body`: empty (unless `allow_empty`, for a
    share's optional comment) or longer than MAX_MESSAGE_LENGTH characters."""
    if not isinstance(body, str):
        raise ValidationError({"body": [_("The message must be text.")]})
    cleaned = text_clean(body)
    if not cleaned and not allow_empty:
        raise ValidationError({"body": [_("Write something: the message is empty.")]})
    if len(cleaned) > MAX_MESSAGE_LENGTH:
        raise ValidationError(
            {
                "body": [
                    _("A message has at most %(max)d characters; this one has %(n)d.")
                    % {"max": MAX_MESSAGE_LENGTH, "n": len(cleaned)}
                ]
            }
        )
    return cleaned


# --- @mentions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionCandidate:
    user_id: int
    names: tuple[str, ...]  # display name, e-mail local part


def _word(ch: str) -> bool:
    return ch.isalnum() or ch in "_."


def mentions_find(text: str, candidates: Iterable[MentionCandidate]) -> list[int]:
    """User ids mentioned as `@name` in `text`, in order of first mention.

    A name is a member's display name or the local part of their e-mail address, matched
    case-insensitively, longest first (so `@Priya Sharma` beats `@Priya`). The `@` must not
    follow a letter or digit (an e-mail address in the text is not a mention) and the name
    must end at a word boundary. A name shared by several members mentions nobody.
    """
    owners: dict[str, set[int]] = {}
    for candidate in candidates:
        for name in candidate.names:
            name = name.strip().casefold()
            if name:
                owners.setdefault(name, set()).add(candidate.user_id)
    if not owners or "@" not in text:
        return []
    names = sorted(owners, key=len, reverse=True)
    folded = text.casefold()
    found: list[int] = []
    for match in re.finditer("@", text):
        start = match.start()
        if start > 0 and _word(text[start - 1]):
            continue
        rest = folded[start + 1 :]
        for name in names:
            if not rest.startswith(name):
                continue
            after = rest[len(name) : len(name) + 1]
            # A trailing "." ends a sentence; any other word character continues the name.
            if after and _word(after) and after != ".":
                continue
            ids = owners[name]
            if len(ids) == 1:
                (user_id,) = ids
                if user_id not in found:
                    found.append(user_id)
            break  # the longest name that fits decides, ambiguous or not
    return found


# --- $SYMBOL ------------------------------------------------------------------------------------

_SYMBOL_RE = re.compile(
    r"(?<![\w$])\$(?:(?P<exchange>NSE|BSE):)?(?P<symbol>[A-Z][A-Z0-9&\-]{0,19})",
    re.IGNORECASE,
)


def symbol_tokens(text: str) -> list[tuple[str, str]]:
    """`(exchange or "", SYMBOL)` for each `$SYMBOL` / `$NSE:SYMBOL` token, upper-cased,
    de-duplicated, in order; at most MAX_SYMBOLS_PER_MESSAGE. `$100` is not a token."""
    tokens: list[tuple[str, str]] = []
    for match in _SYMBOL_RE.finditer(text):
        symbol = match.group("symbol").upper().rstrip("-&")
        token = ((match.group("exchange") or "").upper(), symbol)
        if symbol and token not in tokens:
            tokens.append(token)
        if len(tokens) >= MAX_SYMBOLS_PER_MESSAGE:
            break
    return tokens


# --- links --------------------------------------------------------------------------------------

_LINK_RE = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.IGNORECASE)


def links_find(text: str) -> list[str]:
    """The http(s) URLs in `text`, trailing sentence punctuation dropped; nothing else (no
    `javascript:`, `data:` or scheme-less text) is ever a link."""
    found: list[str] = []
    for match in _LINK_RE.finditer(text):
        url = match.group(0).rstrip(".,;:!?)]}")
        if url not in found:
            found.append(url)
        if len(found) >= MAX_LINKS_PER_MESSAGE:
            break
    return found


# --- emoji --------------------------------------------------------------------------------------

_ZWJ = "\u200d"
_VARIATION = frozenset("\ufe0e\ufe0f")
_KEYCAP = "\u20e3"
_SKIN_TONES = frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))
_TAGS = frozenset(chr(c) for c in range(0xE0020, 0xE0080))
_REGIONAL = frozenset(chr(c) for c in range(0x1F1E6, 0x1F200))


def _emoji_part(part: str) -> bool:
    """One emoji without joiners: a pictograph (or a keycap base) and its modifiers."""
    if not part:
        return False
    base, modifiers = part[0], part[1:]
    if base in "0123456789#*":
        return modifiers in (_KEYCAP, "\ufe0f" + _KEYCAP)
    if unicodedata.category(base) != "So" or base in _REGIONAL:
        return False
    return all(ch in _VARIATION or ch in _SKIN_TONES or ch in _TAGS for ch in modifiers)


def emoji_validate(emoji: str) -> str:
    """`emoji` if it is exactly one emoji (a ZWJ sequence, a flag, a keycap or a pictograph
    with modifiers count as one), at most MAX_EMOJI_LENGTH characters; else ValidationError
    on `emoji`."""
    emoji = emoji.strip() if isinstance(emoji, str) else ""
    ok = 0 < len(emoji) <= MAX_EMOJI_LENGTH and (
        (len(emoji) == 2 and all(ch in _REGIONAL for ch in emoji))
        or all(_emoji_part(part) for part in emoji.split(_ZWJ))
    )
    if not ok:
        raise ValidationError({"emoji": [_("React with one emoji, e.g. 👍.")]})
    return emoji
