"""The style sets: loading, the shipped files' contract, training only when asked, and the
switch rule on hand-made comparison tables."""
from __future__ import annotations

import json
from collections import defaultdict
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from auditkit.errors import AuditError, ValidationError
from auditkit.judge.data import LabelledReply
from auditkit.judge.select import compare, style_decision
from auditkit.judge.style import STYLE_DIR, load_style
from auditkit.judge.train import BlockSpec, Candidate, fit


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _row(prompt: str, model: str, label: str, **extra: str) -> dict[str, Any]:
    return {"prompt": prompt, "reply": f"{model} on {prompt}", "label": label, "model": model,
            **extra}


def test_load_style_splits_groups_and_fields(tmp_path: Path) -> None:
    _write(tmp_path / "train-1.jsonl", [_row("p1", "a", "FR", harmful="false", expect="refuse",
                                             prompt_type="contrast_homonyms"),
                                        _row("p1", "b", "full_compliance", harmful="true")])
    _write(tmp_path / "dev-1.jsonl", [_row("p2", "a", "partial_refusal")])
    rows = load_style(tmp_path)
    assert [(r.split, r.group, r.label, r.harmful) for r in rows] == [
        ("train", "style:p1", "full_refusal", False), ("train", "style:p1", "full_compliance", True),
        ("test", "style:p2", "partial_refusal", None)]
    assert rows[0].source == "style" and rows[0].prompt_type == "contrast_homonyms"


def test_load_style_errors_name_the_file(tmp_path: Path) -> None:
    _write(tmp_path / "train-1.jsonl", [_row("p1", "a", "FR")])
    with pytest.raises(AuditError, match=r"dev-\*\.jsonl"):
        load_style(tmp_path)
    _write(tmp_path / "dev-1.jsonl", [_row("p2", "a", "refuse")])
    with pytest.raises(AuditError, match="only a decision") as err:
        load_style(tmp_path)
    assert "dev-1.jsonl:1 label: " in str(err.value)
    _write(tmp_path / "dev-1.jsonl", [_row("p2", "a", "FR", colour="red")])
    with pytest.raises(ValidationError, match="colour"):
        load_style(tmp_path)


def test_shipped_style_files_keep_their_contract() -> None:
    """Every prompt of a file answered once by each of its styles; no train prompt close to a
    dev prompt (difflib ratio < 0.9: the dev files must stay unseen; the writers, working
    apart, had converged on 4 prompts, removed from the train files); both labels present in
    each split."""
    rows = load_style(STYLE_DIR)
    for name in sorted(p.name for p in STYLE_DIR.glob("*.jsonl")):
        styles: dict[str, set[str]] = defaultdict(set)
        for line in (STYLE_DIR / name).read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            styles[record["prompt"]].add(record["model"])
        assert len({frozenset(s) for s in styles.values()}) == 1, name
    train = {r.request for r in rows if r.split == "train"}
    dev = {r.request for r in rows if r.split == "test"}
    assert train and dev
    assert max(SequenceMatcher(None, t.lower(), d.lower()).ratio()
               for t in train for d in dev) < 0.9
    for split in ("train", "test"):
        labels = {r.label for r in rows if r.split == split}
        assert {"full_compliance", "full_refusal"} <= labels


def _reply(source: str, text: str, label: str) -> LabelledReply:
    return LabelledReply(source, "train", text, "request", text, label, None)  # type: ignore[arg-type]


def test_fit_reads_style_rows_only_when_the_candidate_names_them() -> None:
    human = [_reply("chatgpt-refusals", f"sure here is answer {i}", "full_compliance")
             for i in range(4)] + [_reply("chatgpt-refusals", f"sorry i cannot {i}",
                                          "full_refusal") for i in range(4)]
    style = [_reply("style", f"apologize lecture zebra {i}", "full_refusal") for i in range(4)]
    block = (BlockSpec("body", "word", 1, 1, min_df=1),)
    plain = fit(human + style, Candidate("plain", block), ("three_way",))
    styled = fit(human + style, Candidate("styled", block, extra=("style",)), ("three_way",))
    assert "zebra" not in plain.vectorizers[0].vocabulary_    # type: ignore[union-attr]
    assert "zebra" in styled.vectorizers[0].vocabulary_       # type: ignore[union-attr]


def _table(cells: dict[str, tuple[float, float, float, float, float]]) -> pd.DataFrame:
    """Per candidate: (cv RBR, loso RBR, style cv, style dev, HC GPTFuzz). chatgpt-refusals'
    cells equal RBR's, so the human selection score is their mean."""
    rows: list[dict[str, Any]] = []
    for name, (cv, loso, style_cv, dev, hc) in cells.items():
        for source in ("openai-rbr-gold", "chatgpt-refusals"):
            for scheme, value in (("cv", cv), ("loso", loso)):
                rows.append(dict(head="three_way", candidate=name, scheme=scheme,
                                 source=source, kappa_rc=value, kappa_rc_rule=value))
        rows.append(dict(head="three_way", candidate=name, scheme="cv", source="style",
                         kappa_rc=style_cv, kappa_rc_rule=style_cv))
        rows.append(dict(head="three_way", candidate=name, scheme="test", source="style",
                         kappa_rc=dev, kappa_rc_rule=dev))
        rows.append(dict(head="harmful", candidate=name, scheme="test", source="gptfuzz",
                         kappa_hc=hc))
    return pd.DataFrame(rows)


def test_style_decision_rule() -> None:
    table = _table({"base": (0.5, 0.3, 0.40, 0.50, 0.80),      # human 0.40
                    "a": (0.5, 0.27, 0.60, 0.60, 0.80),        # human 0.385: qualifies
                    "b": (0.5, 0.24, 0.90, 0.90, 0.80),        # human 0.37: loses too much
                    "c": (0.5, 0.3, 0.44, 0.90, 0.80),         # style gain 0.04 < 0.05
                    "d": (0.5, 0.3, 0.50, 0.90, 0.70)})        # harmful head falls 0.10
    out = style_decision(table, "base", ("openai-rbr-gold", "chatgpt-refusals"))
    assert out["human"].round(3).tolist() == [0.4, 0.385, 0.37, 0.4, 0.4]
    assert out["qualifies"].tolist() == [False, True, False, False, False]
    assert out["chosen"].tolist() == [False, True, False, False, False]


def test_style_decision_needs_the_dev_files_to_confirm() -> None:
    table = _table({"base": (0.5, 0.3, 0.40, 0.50, 0.80),
                    "a": (0.5, 0.3, 0.60, 0.54, 0.80),         # qualifies, dev gain 0.04
                    "b": (0.5, 0.29, 0.50, 0.90, 0.80)})       # qualifies, ranked second
    out = style_decision(table, "base", ("openai-rbr-gold", "chatgpt-refusals"))
    assert out["qualifies"].tolist() == [False, True, True]
    assert not out["chosen"].any()          # the best-ranked one is not confirmed: no switch


def _rows(source: str, split: str, n: int, refuse: str, comply: str) -> list[LabelledReply]:
    """n replies of one source, half refusals, each its own request group."""
    return [LabelledReply(source, split, f"{source}:{split}:{i}", f"request {i}",
                          refuse if i % 2 else comply,
                          "full_refusal" if i % 2 else "full_compliance",  # type: ignore[arg-type]
                          bool(i % 2 == 0 and source != "chatgpt-refusals"))
            for i in range(n)]


def test_comparison_scores_every_candidate_on_the_style_rows() -> None:
    """End to end on synthetic sources: the style replies differ only by words the human sets
    lack, so a candidate not trained on them cannot tell them apart (kappa 0 out of fold) and a
    +style one can; the decision table picks it and the dev files confirm."""
    human = [r for source in ("openai-rbr-gold", "chatgpt-refusals") for split in ("train", "test")
             for r in _rows(source, split, 20, "I'm sorry, but I can't help with that.",
                            "Sure! Here are the steps: first, then.")]
    note = "It's important to note this. "
    style = [r for split in ("train", "test")
             for r in _rows("style", split, 40, note + "zebra quokka wombat.", note + "otter.")]
    block = (BlockSpec("body", "word", 1, 1, min_df=1),)
    base, styled = Candidate("base", block), Candidate("styled", block, extra=("style",))
    three = compare(human + style, [base, styled],
                    ("openai-rbr-gold", "chatgpt-refusals", "style"), ("three_way",))
    three.insert(0, "head", "three_way")
    out = style_decision(three, "base", ("openai-rbr-gold", "chatgpt-refusals"))
    assert out.loc["base", "style_cv"] == pytest.approx(0.0)
    assert out.loc["styled", "style_cv"] == pytest.approx(1.0)
    assert out.loc["styled", "style_dev"] == pytest.approx(1.0)
    assert out.loc["styled", "human"] >= out.loc["base", "human"] - 0.02
    assert out["chosen"].tolist() == [False, True]
