"""The lineage: the one type that walks a family tree (or forest).

Every stage that needs the tree (family discovery, the engine's stamps, the run manifest, the
analysis, the reports and the gate) asks a :class:`Lineage`, built from a ``name -> parent``
mapping (``None`` for a root). ``Family.lineage`` gives the family's; a run's comes from its
manifest. Pure Python: no I/O, no numpy.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field


class LineageError(ValueError):
    """A parent that is not a member, or a cycle; ``name`` is the member where it was found and
    ``cycle`` the members of the cycle, in parent order (empty for a missing parent)."""

    def __init__(self, name: str, message: str, cycle: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.name = name
        self.cycle = cycle


@dataclass(frozen=True)
class Lineage:
    """A forest of named models; ``names`` keeps the order it was given (parents first when the
    mapping was topological, as a family's and a run manifest's are)."""

    parents: Mapping[str, str | None]
    _children: Mapping[str | None, tuple[str, ...]] = field(init=False, repr=False,
                                                            compare=False)

    def __post_init__(self) -> None:
        parents = dict(self.parents)
        for name, parent in parents.items():
            if parent is not None and parent not in parents:
                raise LineageError(name, f"parent {parent!r} of {name!r} is not a member")
        _check_acyclic(parents)
        children: dict[str | None, list[str]] = {}
        for name, parent in parents.items():
            children.setdefault(parent, []).append(name)
        object.__setattr__(self, "parents", parents)
        object.__setattr__(self, "_children", {k: tuple(v) for k, v in children.items()})

    @property
    def names(self) -> list[str]:
        return list(self.parents)

    def __contains__(self, name: object) -> bool:
        return name in self.parents

    def __iter__(self) -> Iterator[str]:
        return iter(self.parents)

    def __len__(self) -> int:
        return len(self.parents)

    def parent(self, name: str) -> str | None:
        return self.parents[name]

    @property
    def roots(self) -> list[str]:
        return list(self._children.get(None, ()))

    def children(self, name: str) -> list[str]:
        return list(self._children.get(name, ()))

    def ancestors(self, name: str) -> list[str]:
        """Parent, grandparent, ... up to the root (nearest first)."""
        chain: list[str] = []
        parent = self.parents[name]
        while parent is not None:
            chain.append(parent)
            parent = self.parents[parent]
        return chain

    def descendants(self, name: str) -> list[str]:
        """Every descendant of ``name`` at any depth, in ``names`` order."""
        found: set[str] = set()
        stack = list(self.children(name))
        while stack:
            node = stack.pop()
            found.add(node)
            stack.extend(self.children(node))
        return [m for m in self.parents if m in found]

    def depth(self, name: str) -> int:
        return len(self.ancestors(name))

    def root_of(self, name: str) -> str:
        chain = self.ancestors(name)
        return chain[-1] if chain else name

    def edges(self, within: Collection[str] | None = None) -> list[tuple[str, str]]:
        """(parent, child) for every child whose parent is also ``within`` (default: all)."""
        keep = self.parents.keys() if within is None else set(within)
        order = self.parents if within is None else [m for m in within if m in self.parents]
        return [(p, m) for m in order if (p := self.parents[m]) is not None and p in keep]

    def nearest_ancestor(self, name: str, within: Collection[str]) -> str | None:
        """The closest ancestor of ``name`` that is in ``within`` (None when there is none)."""
        return next((a for a in self.ancestors(name) if a in within), None)

    def restrict(self, within: Collection[str]) -> Lineage:
        """The lineage of a subset: each kept member's parent is its nearest kept ancestor."""
        keep = set(within)
        return Lineage({m: self.nearest_ancestor(m, keep) for m in self.parents if m in keep})

    def path_length(self, a: str, b: str) -> int | None:
        """Number of edges between ``a`` and ``b``; None when they are in different trees."""
        up_a = [a, *self.ancestors(a)]
        up_b = [b, *self.ancestors(b)]
        common = next((x for x in up_a if x in set(up_b)), None)
        return None if common is None else up_a.index(common) + up_b.index(common)

    def topological(self) -> list[str]:
        """Names with every parent before its children (roots, then depth first, given order)."""
        order: list[str] = []
        stack = list(reversed(self.roots))
        while stack:
            name = stack.pop()
            order.append(name)
            stack.extend(reversed(self.children(name)))
        return order


def _check_acyclic(parents: Mapping[str, str | None]) -> None:
    done: set[str] = set()
    for start in parents:
        path: list[str] = []
        name: str | None = start
        while name is not None and name not in done:
            if name in path:
                cycle = tuple(path[path.index(name):])
                raise LineageError(name, f"lineage cycle: {' -> '.join(cycle + (name,))}", cycle)
            path.append(name)
            name = parents[name]
        done.update(path)
