"""Text cleaning for output documents.

Feed content is hostile: a single control character or lone surrogate in a
title makes a whole XML document invalid (and lxml refuses to serialize it),
so every string that leaves through an output feed passes through
:func:`xml_safe` first.
"""

from __future__ import annotations

import re

# Characters outside the XML 1.0 "Char" production, plus the C1 controls and
# non-characters that feed validators reject.
_INVALID_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)


def xml_safe(value: str | None) -> str:
    """Drop every character that XML 1.0 (and strict JSON consumers) cannot carry."""
    if not value:
        return ""
    return _INVALID_XML.sub("", value)


def one_line(value: str | None) -> str:
    """``xml_safe`` plus collapsed whitespace: for titles, names and labels."""
    return " ".join(xml_safe(value).split())
