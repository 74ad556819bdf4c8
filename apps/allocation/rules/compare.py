"""Two versions of a rule set compared rule by rule (rules are matched by name). Pure Python."""

from dataclasses import dataclass

from ..models import RuleSetVersion


@dataclass
class VersionDiff:
    added: list[str]
    removed: list[str]
    changed: dict  # rule name -> {key: (before, after)}
    moved: list[tuple[str, int, int]]  # name, position in a, position in b (1-based)
    true_up: tuple | None

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.moved or self.true_up)

    def lines(self) -> list[str]:
        out = [f"+ added rule {name}" for name in self.added]
        out += [f"- removed rule {name}" for name in self.removed]
        for name, changes in self.changed.items():
            for key, (old, new) in changes.items():
                out.append(f"~ {name}: {key} changed from {old!r} to {new!r}")
        out += [f"↕ {name} moved from position {a} to {b}" for name, a, b in self.moved]
        if self.true_up:
            old, new = (_true_up_words(t) for t in self.true_up)
            out.append(f"~ true-up changed from {old} to {new}")
        return out


def _true_up_words(true_up: dict | None) -> str:
    if not true_up:
        return "none"
    central = true_up.get("central_owner")
    return f"{true_up.get('mode')} (central owner {central})" if central else str(true_up.get("mode"))


def versions_compare(a: RuleSetVersion, b: RuleSetVersion) -> VersionDiff:
    """What changed from version a to version b, rule by rule (rules are matched by name)."""
    rules_a = {r["name"]: (i, r) for i, r in enumerate(a.document.get("rules", []), start=1)}
    rules_b = {r["name"]: (i, r) for i, r in enumerate(b.document.get("rules", []), start=1)}
    changed = {}
    for name in rules_a.keys() & rules_b.keys():
        old, new = rules_a[name][1], rules_b[name][1]
        diff = {k: (old.get(k), new.get(k)) for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)}
        if diff:
            changed[name] = diff
    common_a = [n for n in rules_a if n in rules_b]
    common_b = [n for n in rules_b if n in rules_a]
    moved = [(n, rules_a[n][0], rules_b[n][0]) for n in common_b if common_a.index(n) != common_b.index(n)]
    ta, tb = a.document.get("true_up"), b.document.get("true_up")
    return VersionDiff(
        added=[n for n in rules_b if n not in rules_a],
        removed=[n for n in rules_a if n not in rules_b],
        changed={n: changed[n] for n in rules_b if n in changed},
        moved=moved,
        true_up=(ta, tb) if ta != tb else None,
    )
