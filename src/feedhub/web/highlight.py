"""Search-hit highlighting that cannot inject markup.

The raw text is split at the matches first; every piece is escaped on its own and
only our own ``<mark>`` tags are added between them, so a term can never cut an
entity in half or smuggle a tag in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markupsafe import Markup, escape


def highlight(text: str, terms: Sequence[str]) -> Markup:
    words = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    parts: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == match.end():
            continue
        parts.append(str(escape(text[pos : match.start()])))
        parts.append("<mark>" + str(escape(match.group(0))) + "</mark>")
        pos = match.end()
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))
