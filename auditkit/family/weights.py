"""Weight files without loading tensors: safetensors headers, GGUF tensor tables, pickle names.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON mapping each
tensor name to {dtype, shape, data_offsets: [begin, end]}, then the data buffer; the buffer must
hold exactly the bytes the header indexes, which is how a truncated file is caught.
"""
from __future__ import annotations

import fnmatch
import json
import math
import struct
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError

# Bytes per element; dtypes not listed (sub-byte formats) skip the per-tensor size check.
DTYPE_BYTES = {
    "F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
    "U16": 2, "I8": 1, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1, "F8_E8M0": 1,
}
MAX_HEADER = 100_000_000  # the safetensors library's own limit
PICKLE_PATTERNS = ("*.bin", "*.pt", "*.pth", "*.ckpt")
# Trainer checkpoint files that are pickles but not model weights.
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state*.pth")


def is_pickle_weight(name: str) -> bool:
    """Whether a file name looks like pickled model weights (``*.bin``, ``*.pt``, ``*.pth``)."""
    if any(fnmatch.fnmatch(name, pat) for pat in NOT_WEIGHTS):
        return False
    return any(fnmatch.fnmatch(name, pat) for pat in PICKLE_PATTERNS)


def safetensors_params(path: Path) -> int:
    """Number of elements stored in a safetensors file, after checking its header and size."""
    header, data_len = _read_header(path)
    n_params, end_max = 0, 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        n, end = _check_tensor(path, name, info)
        n_params, end_max = n_params + n, max(end_max, end)
    if end_max != data_len:
        what = "truncated" if data_len < end_max else "has trailing bytes"
        raise AuditError(path, f"corrupt safetensors file ({what}): the header indexes "
                         f"{end_max} bytes of tensor data, the file holds {data_len}")
    return n_params


def _read_header(path: Path) -> tuple[dict[str, Any], int]:
    """The parsed JSON header and the length of the data buffer after it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise AuditError(path, f"corrupt safetensors file: {size} bytes, too short "
                                 "for the 8-byte header length")
            (n,) = struct.unpack("<Q", head)
            if n > min(MAX_HEADER, size - 8):
                raise AuditError(path, f"corrupt safetensors file: header length {n} does not "
                                 f"fit in a file of {size} bytes")
            raw = fh.read(n)
    except OSError as exc:
        raise AuditError(path, f"cannot read the weight file: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise AuditError(path, "corrupt safetensors file: the header is not valid JSON") from None
    if not isinstance(header, dict):
        raise AuditError(path, "corrupt safetensors file: the header is not a JSON object")
    return header, size - 8 - n


def _check_tensor(path: Path, name: str, info: object) -> tuple[int, int]:
    """(elements, end offset) of one header entry, checking it is well formed."""
    try:
        dtype, shape = info["dtype"], [int(d) for d in info["shape"]]  # type: ignore[index]
        begin, end = (int(x) for x in info["data_offsets"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        raise AuditError(path, f"corrupt safetensors file: bad header entry for tensor "
                         f"{name!r} (expected dtype, shape and data_offsets)") from None
    n = math.prod(shape)
    width = DTYPE_BYTES.get(str(dtype))
    if begin < 0 or end < begin or (width is not None and end - begin != n * width):
        raise AuditError(path, f"corrupt safetensors file: tensor {name!r} ({dtype} "
                         f"{shape}) has data offsets [{begin}, {end}]")
    return n, end


def gguf_params(path: Path) -> int:
    """Number of elements in a GGUF file's tensors, read with the ``gguf`` package."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise AuditError(path, f"cannot read the GGUF file: {exc.strerror or exc}") from None
    if magic != b"GGUF":
        raise AuditError(path, f"not a GGUF file: starts with {magic!r}, expected b'GGUF'")
    from gguf import GGUFReader  # heavy import, only when a GGUF file is present

    try:
        reader = GGUFReader(path)
    except Exception as exc:  # the reader raises ValueError, IndexError, struct.error, ...
        raise AuditError(path, f"corrupt GGUF file (truncated?): {exc}") from None
    return sum(int(t.n_elements) for t in reader.tensors)
