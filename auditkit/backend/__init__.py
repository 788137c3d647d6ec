"""The scoring backend: the only package that imports torch, transformers and peft."""
import warnings

from transformers.utils import logging as _hf_logging

# auditkit draws its own progress; per-tensor "Loading weights" bars would bury it.
_hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
# Raised by transformers itself when peft wraps a model; nothing the user can act on.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
