"""The Lineage type: every walk of a family tree, on a hand-drawn forest."""
from __future__ import annotations

import pytest

from auditkit.lineage import Lineage, LineageError

#   base ─┬─ chat ─┬─ chat-v2
#         │        └─ chat-lora
#         └─ med ──── med-lora          other (second root)
PARENTS = {"base": None, "chat": "base", "chat-v2": "chat", "chat-lora": "chat",
           "med": "base", "med-lora": "med", "other": None}


def test_walks() -> None:
    lin = Lineage(PARENTS)
    assert lin.roots == ["base", "other"]
    assert lin.children("chat") == ["chat-v2", "chat-lora"]
    assert lin.ancestors("chat-lora") == ["chat", "base"]
    assert lin.descendants("base") == ["chat", "chat-v2", "chat-lora", "med", "med-lora"]
    assert lin.depth("med-lora") == 2 and lin.depth("other") == 0
    assert lin.root_of("chat-v2") == "base"
    assert lin.edges() == [("base", "chat"), ("chat", "chat-v2"), ("chat", "chat-lora"),
                           ("base", "med"), ("med", "med-lora")]
    assert lin.edges(within=["base", "chat-lora", "med"]) == [("base", "med")]


def test_subsets_and_paths() -> None:
    lin = Lineage(PARENTS)
    assert lin.nearest_ancestor("chat-lora", {"base", "med"}) == "base"
    assert lin.nearest_ancestor("base", {"chat"}) is None
    sub = lin.restrict(["base", "chat-v2", "med-lora"])
    assert sub.parents == {"base": None, "chat-v2": "base", "med-lora": "base"}
    assert lin.path_length("chat-v2", "med-lora") == 4
    assert lin.path_length("chat", "chat") == 0
    assert lin.path_length("chat", "other") is None


def test_topological_order_from_any_order() -> None:
    lin = Lineage({"c": "b", "b": "a", "a": None})
    assert lin.topological() == ["a", "b", "c"]


def test_bad_trees_name_the_member() -> None:
    with pytest.raises(LineageError, match="parent 'x' of 'b' is not a member") as err:
        Lineage({"a": None, "b": "x"})
    assert err.value.name == "b"
    with pytest.raises(LineageError, match="lineage cycle: a -> b -> a"):
        Lineage({"a": "b", "b": "a"})
