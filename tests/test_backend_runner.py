"""Device/dtype choice and the token-budget batch runner, out-of-memory search included."""
from __future__ import annotations

import pytest
import torch

from auditkit.backend.device import BatchRunner, length_bucket, pick_device, pick_dtype
from auditkit.errors import AuditError


def test_pick_device_and_dtype_defaults():
    device = pick_device(None)
    assert device == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_dtype("cpu") == torch.float32
    assert pick_device("cpu") == "cpu"


def test_pick_dtype_override_and_errors():
    assert pick_dtype("cpu", "bf16") == torch.bfloat16
    assert pick_dtype("cpu", "float16") == torch.float16
    assert pick_dtype("cpu", torch.float64) == torch.float64
    with pytest.raises(AuditError, match="not a dtype"):
        pick_dtype("cpu", "int3")
    with pytest.raises(AuditError, match="not a device"):
        pick_device("toaster")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_cuda():
    with pytest.raises(AuditError, match="CUDA is not available"):
        pick_device("cuda")


def test_length_bucket():
    assert [length_bucket(n) for n in (1, 2, 3, 8, 9, 100)] == [1, 2, 4, 8, 16, 128]


def recorder(fail_above: int | None = None):
    """fn(batch) -> the items doubled; raises CUDA OOM for batches larger than ``fail_above``."""
    batches: list[list[int]] = []

    def fn(batch: list[int]) -> list[int]:
        batches.append(batch)
        if fail_above is not None and len(batch) > fail_above:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (test)")
        return [2 * i for i in batch]
    return fn, batches


def test_batches_fill_the_token_budget():
    fn, batches = recorder()
    out = BatchRunner(token_budget=20).run([10, 10, 5, 5, 5, 5, 5], fn)
    assert out == [0, 2, 4, 6, 8, 10, 12]
    assert batches == [[0, 1], [2, 3, 4, 5], [6]]


def test_max_batch_size_caps_rows():
    fn, batches = recorder()
    BatchRunner(token_budget=100, max_batch_size=2).run([3, 3, 3], fn)
    assert batches == [[0, 1], [2]]


def test_oom_halves_remembers_and_finishes():
    fn, batches = recorder(fail_above=3)
    runner = BatchRunner(token_budget=1000, adaptive=True)
    out = runner.run([50] * 10, fn)
    assert out == [2 * i for i in range(10)]
    assert [len(b) for b in batches] == [10, 5, 2, 2, 2, 2, 2]
    assert runner.caps == {64: 2} and runner.n_oom == 2
    batches.clear()
    runner.run([40] * 4, fn)                 # same bucket: starts at what fit, no new OOM
    assert [len(b) for b in batches] == [2, 2] and runner.n_oom == 2
    batches.clear()
    runner.run([200] * 3, fn)                # longer sequences: the cap carries over
    assert [len(b) for b in batches] == [2, 1]
    batches.clear()
    runner.run([10] * 3, fn)                 # shorter ones are not limited by it
    assert [len(b) for b in batches] == [3]


def test_oom_not_caught_off_cuda():
    fn, _ = recorder(fail_above=1)
    with pytest.raises(torch.cuda.OutOfMemoryError):
        BatchRunner(token_budget=100).run([5, 5], fn)


def test_oom_with_one_sequence_is_reported():
    fn, _ = recorder(fail_above=0)
    with pytest.raises(AuditError, match="single sequence of 7 tokens"):
        BatchRunner(token_budget=100, adaptive=True).run([7, 7], fn)


def test_default_budgets_per_device_and_request_type():
    from auditkit.backend.device import default_token_budget

    assert default_token_budget("cpu") == 2048
    assert default_token_budget("cpu", "generate") == 8192
    assert default_token_budget("cuda:0", "generate") == default_token_budget("cuda") == 32768
