"""Admin rules as pure data: validation, compilation and evaluation.

A rule matches keywords (any of a comma-separated list, case-insensitive, on
word boundaries) or a regular expression on one field of an entry, and then
sets the category, flags the entry as sponsored, or hides the story. Regexes
come from admins but run on every ingested entry, so patterns that can
backtrack catastrophically (nested quantifiers, back-references) are refused
up front instead of being timed out later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

FIELDS = ("title", "lead", "feed_category", "author", "source", "any")
MATCH_TYPES = ("keywords", "regex")
ACTIONS = ("set_category", "flag_sponsored", "hide")
MAX_PATTERN_LENGTH = 300
MAX_TEXT_LENGTH = 5000  # rules look at the beginning of long fields only


class RuleError(ValueError):
    """A rule that cannot be saved; the message is shown to the admin as is."""


@dataclass(frozen=True)
class RuleSpec:
    name: str
    field: str
    match_type: str
    pattern: str
    action: str
    category_id: int | None = None
    rule_id: int | None = None


@dataclass(frozen=True)
class EntryFields:
    """The parts of an entry that rules can look at."""

    title: str = ""
    lead: str = ""
    feed_categories: Sequence[str] = ()
    author: str = ""
    source: str = ""

    def values(self, name: str) -> list[str]:
        if name == "title":
            return [self.title]
        if name == "lead":
            return [self.lead]
        if name == "feed_category":
            return list(self.feed_categories)
        if name == "author":
            return [self.author]
        if name == "source":
            return [self.source]
        return [self.title, self.lead, *self.feed_categories, self.author, self.source]


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    regex: re.Pattern[str]

    def matches(self, entry: EntryFields) -> bool:
        return any(self.regex.search(v[:MAX_TEXT_LENGTH]) for v in entry.values(self.spec.field))


@dataclass
class RuleOutcome:
    category_id: int | None = None
    category_rule: str = ""
    sponsored_reason: str = ""
    hidden_by: str = ""
    matched: list[str] = field(default_factory=list)


def _quantifier_at(pattern: str, i: int) -> tuple[int, bool] | None:
    """(length, repeats more than once) of a quantifier starting at *i*, else None."""
    ch = pattern[i]
    if ch in "*+":
        return 1 + (pattern[i + 1 : i + 2] in {"?", "+"}), True
    if ch == "?":
        return 1 + (pattern[i + 1 : i + 2] in {"?", "+"}), False
    if ch == "{":
        brace = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
        if brace is None:
            return None
        low, comma, high = brace.groups()
        repeating = (comma == "," and high not in {"0", "1"}) or low not in {"", "0", "1"}
        return len(brace.group(0)), repeating
    return None


def _check_regex_safety(pattern: str) -> None:
    """Refuse back-references and quantified groups that contain a quantifier."""
    # each open group records whether a quantifier occurred inside it
    stack: list[bool] = []
    i = 0
    in_class = False
    last_group_had_quantifier = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt.isdigit() and nxt != "0" and not in_class:
                raise RuleError("back-references are not allowed in rule patterns")
            i += 2
            last_group_had_quantifier = False
            continue
        if in_class:
            if ch == "]":
                in_class = False
            i += 1
            continue
        if ch == "[":
            in_class = True
            # a leading "]" or "^]" is a literal inside the class
            if pattern[i + 1 : i + 2] == "^":
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                i += 1
            i += 1
            last_group_had_quantifier = False
            continue
        if ch == "(":
            if pattern.startswith("(?P=", i):
                raise RuleError("back-references are not allowed in rule patterns")
            stack.append(False)
            # "(?:", "(?P<name>", "(?i)": the "?" introduces syntax, not a quantifier
            i += 2 if pattern.startswith("(?", i) else 1
            last_group_had_quantifier = False
            continue
        if ch == ")":
            if not stack:
                raise RuleError("unbalanced parenthesis in the pattern")
            last_group_had_quantifier = stack.pop()
            if stack and last_group_had_quantifier:
                stack[-1] = True
            i += 1
            continue
        quantifier = _quantifier_at(pattern, i)
        if quantifier is not None:
            length, repeating = quantifier
            if repeating and last_group_had_quantifier:
                raise RuleError(
                    "nested quantifiers such as (a+)+ can take forever to match;"
                    " simplify the pattern"
                )
            if stack:
                stack[-1] = True
            last_group_had_quantifier = False
            i += length
            continue
        last_group_had_quantifier = False
        i += 1


def _keywords_regex(pattern: str) -> re.Pattern[str]:
    words = [w.strip() for w in pattern.split(",") if w.strip()]
    if not words:
        raise RuleError("give at least one keyword (comma-separated)")
    alternatives = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def compile_rule(spec: RuleSpec) -> CompiledRule:
    """Validate *spec* and compile its matcher; raises RuleError with a readable message."""
    if spec.field not in FIELDS:
        raise RuleError(f"unknown field {spec.field!r}; use one of {', '.join(FIELDS)}")
    if spec.match_type not in MATCH_TYPES:
        raise RuleError(f"unknown match type {spec.match_type!r}; use keywords or regex")
    if spec.action not in ACTIONS:
        raise RuleError(f"unknown action {spec.action!r}; use one of {', '.join(ACTIONS)}")
    if spec.action == "set_category" and spec.category_id is None:
        raise RuleError("the set_category action needs a category")
    if not spec.pattern.strip():
        raise RuleError("the pattern is empty")
    if len(spec.pattern) > MAX_PATTERN_LENGTH:
        raise RuleError(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    if spec.match_type == "keywords":
        return CompiledRule(spec, _keywords_regex(spec.pattern))
    _check_regex_safety(spec.pattern)
    try:
        regex = re.compile(spec.pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"invalid regular expression: {exc}") from None
    return CompiledRule(spec, regex)


def evaluate(rules: Iterable[CompiledRule], entry: EntryFields) -> RuleOutcome:
    """Apply *rules* in order; the first set_category wins, flags accumulate."""
    outcome = RuleOutcome()
    for rule in rules:
        if not rule.matches(entry):
            continue
        spec = rule.spec
        outcome.matched.append(spec.name)
        if spec.action == "set_category" and outcome.category_id is None:
            outcome.category_id = spec.category_id
            outcome.category_rule = spec.name
        elif spec.action == "flag_sponsored" and not outcome.sponsored_reason:
            outcome.sponsored_reason = f"rule: {spec.name}"
        elif spec.action == "hide" and not outcome.hidden_by:
            outcome.hidden_by = spec.name
    return outcome
