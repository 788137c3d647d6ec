"""Adding LoRA adapters to one PeftModel at a cost per adapter that does not grow with their number.

peft's ``PeftModel.load_adapter`` walks every module and parameter of the whole model per adapter
(``inject_adapter``, ``set_peft_model_state_dict``, ``_mark_only_adapters_as_trainable``,
``eval``), and every adapter already loaded adds modules to those walks: loading N adapters is
quadratic in N (0.41 CPU s per adapter for the first 8 of 64, 6.06 for the last 8; issue 15,
benchmarks/README.md). Here an adapter whose ``adapter_config.json`` equals that of an adapter
peft has already injected, up to the per-adapter values in :data:`PER_ADAPTER_KEYS`, is added
through peft's own layer API on that earlier adapter's LoRA layers (found once, by one walk):
``update_layer`` on each, then its safetensors weights copied into exactly those layers'
``lora_A[name]``/``lora_B[name]``, the config set in ``model.peft_config[name]``, the new modules
put in eval mode and frozen. Every key of the weight file must be consumed and every new
parameter filled, with its shape (an :class:`AuditError` names the file and the key otherwise).

Anything else goes to peft's ``load_adapter`` (and its layers become a template in turn): a first
adapter, other target modules or any other shared setting, DoRA and other LoRA variants,
``modules_to_save``, rank or alpha patterns, ``target_parameters``, trainable tokens, layer
replication, weight tying, a bias (``bias`` other than ``"none"``, ``lora_bias``), a string
``init_lora_weights`` (PiSSA, LoftQ, ...), non-Linear LoRA layers (embeddings, convolutions,
quantized layers), non-LoRA adapter types, models whose weights transformers v5 converts (MoE),
and pickle weight files (allowed only with ``allow_pickle``, and then only through peft).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import torch

from auditkit.errors import AuditError

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."   # the checkpoint keys' prefix (a PeftModel's own names)
# what update_layer takes per adapter; every other config key must equal the template's
PER_ADAPTER_KEYS = frozenset({"r", "lora_alpha", "lora_dropout", "use_rslora", "init_lora_weights",
                              "base_model_name_or_path", "revision", "inference_mode"})


@dataclass(frozen=True)
class Template:
    """An adapter peft injected, and its LoRA layers: (module name in the base model, layer)."""

    adapter: str
    layers: tuple[tuple[str, Any], ...]


# model -> {shared part of adapter_config.json (canonical JSON) -> Template}; weak: a closed
# backend's model takes its templates with it
_TEMPLATES: WeakKeyDictionary[Any, dict[str, Template]] = WeakKeyDictionary()


def add_lora(model: Any, name: str, path: Path) -> Any:
    """``model`` (a base or a PeftModel) with the adapter at ``path`` added as ``name``: on an
    earlier adapter's layers when its config allows (module docstring), else by peft."""
    from peft import PeftModel

    shared = _shared_config(path)
    templates = _TEMPLATES.get(model, {}) if isinstance(model, PeftModel) else {}
    template = templates.get(shared) if shared is not None else None
    if template is not None and name not in model.peft_config:
        config = _adapter_config(model, path, template)
        if config is not None and (path / ADAPTER_WEIGHTS).is_file():
            _add_on_template(model, name, path, template, config)
            return model
    model = _peft_load(model, name, path)
    if shared is not None and _simple_config(model.peft_config[name]):
        layers = _lora_layers(model, name)
        if layers is not None:
            _TEMPLATES.setdefault(model, {})[shared] = Template(name, layers)
    return model


def _adapter_config(model: Any, path: Path, template: Template) -> Any:
    """The config peft would store for the adapter at ``path``: the template's (as peft
    prepared it when injecting) with this adapter's own values; None if not plain LoRA."""
    from peft import LoraConfig

    try:
        own = LoraConfig.from_pretrained(str(path))
    except (OSError, ValueError, TypeError):
        return None   # peft's path reports it
    config = copy.deepcopy(model.peft_config[template.adapter])
    for key in PER_ADAPTER_KEYS:
        setattr(config, key, getattr(own, key))
    config.inference_mode = True   # as load_adapter(is_trainable=False) sets it
    return config if _simple_config(config) else None


def _add_on_template(model: Any, name: str, path: Path, template: Template, config: Any) -> None:
    """Adds ``name`` to the template's layers with peft's ``update_layer`` and fills its A and B
    from the weight file; the file is checked in full before the model is touched."""
    weights = _checked_weights(path / ADAPTER_WEIGHTS, template, config.r)
    model.peft_config[name] = config
    with torch.no_grad():
        for key, layer in template.layers:
            with _alone(layer):
                try:
                    layer.update_layer(name, config.r, lora_alpha=config.lora_alpha,
                                       target_name=key, config=config)
                except (ValueError, RuntimeError) as exc:   # as peft's path reports them
                    raise AuditError(path, f"could not load the adapter {name!r}: {exc}") from None
            for part in ("lora_A", "lora_B"):
                # copy_: the dtype and device update_layer gave them (the base layer's), as
                # load_state_dict does in peft's path
                getattr(layer, part)[name].weight.copy_(weights[f"{PEFT_PREFIX}{key}.{part}.weight"])
            for module in (layer.lora_A[name], layer.lora_B[name], layer.lora_dropout[name]):
                module.eval().requires_grad_(False)


@contextmanager
def _alone(layer: Any) -> Iterator[None]:
    """The layer's adapter ModuleDicts emptied while ``update_layer`` adds one: its
    ``set_adapter`` and device move walk every adapter the layer holds (what was left of the
    growth once the model-wide walks were gone: 0.16-0.19 CPU s per adapter for the first 8 of 64,
    0.31-0.33 for the last 8; 0.09-0.12 for both with this), and the others need nothing from
    them (frozen, on their device already)."""
    saved = {part: getattr(layer, part) for part in ("lora_A", "lora_B", "lora_dropout")}
    for part in saved:
        setattr(layer, part, torch.nn.ModuleDict())
    try:
        yield
    finally:
        for part, old in saved.items():
            old.update(getattr(layer, part))   # the new adapter after the others, as peft has it
            setattr(layer, part, old)


def _checked_weights(file: Path, template: Template, r: int) -> dict[str, torch.Tensor]:
    """The adapter's tensors by checkpoint key: exactly one A (r, in) and one B (out, r) per
    layer of the template, nothing else."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        weights = load_file(file)
    except (OSError, SafetensorError) as exc:
        raise AuditError(file, f"could not read the adapter weights: {exc}") from None
    shapes = {f"{PEFT_PREFIX}{key}.{part}.weight": shape for key, layer in template.layers
              for part, shape in (("lora_A", (r, layer.in_features)),
                                  ("lora_B", (layer.out_features, r)))}
    extra = sorted(weights.keys() - shapes.keys())
    if extra:
        raise AuditError(file, "unexpected tensor: the adapter's config targets other modules "
                         "than its weights hold", field=extra[0])
    for key, shape in shapes.items():
        if key not in weights:
            raise AuditError(file, "missing tensor: expected one for every targeted module",
                             field=key)
        if tuple(weights[key].shape) != shape:
            raise AuditError(file, f"expected shape {list(shape)} (r = {r}), found "
                             f"{list(weights[key].shape)}", field=key)
    return weights


def _peft_load(model: Any, name: str, path: Path) -> Any:
    """peft's own way: the whole-model walks, one per adapter."""
    from peft import PeftModel

    try:
        if isinstance(model, PeftModel):
            model.load_adapter(str(path), adapter_name=name, autocast_adapter_dtype=False)
            return model
        return PeftModel.from_pretrained(model, str(path), adapter_name=name,
                                         autocast_adapter_dtype=False, is_trainable=False)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise AuditError(path, f"could not load the adapter {name!r}: {exc}") from None


def _shared_config(path: Path) -> str | None:
    """The config keys every adapter on one template shares, as canonical JSON; None when the
    file is not a readable LoRA config (peft then reports it)."""
    try:
        raw = json.loads((path / ADAPTER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("peft_type") != "LORA":
        return None
    return json.dumps({k: v for k, v in raw.items() if k not in PER_ADAPTER_KEYS},
                      sort_keys=True)


def _simple_config(config: Any) -> bool:
    """Plain LoRA: nothing but A and B per targeted Linear (what _add_on_template fills)."""
    from peft import LoraConfig

    return (type(config) is LoraConfig and isinstance(config.init_lora_weights, bool)
            and not config.use_dora and not config.lora_bias and config.bias == "none"
            and not config.modules_to_save and not config.rank_pattern
            and not config.alpha_pattern and not config.target_parameters
            and config.trainable_token_indices is None and config.layer_replication is None
            and not config.ensure_weight_tying)


def _lora_layers(model: Any, adapter: str) -> tuple[tuple[str, Any], ...] | None:
    """The LoRA layers holding ``adapter`` (one walk of the model), or None when any of them is
    not a plain LoRA Linear or carries a LoRA variant."""
    from peft.tuners.lora.layer import Linear, LoraLayer

    if _model_converted(model):
        return None
    found = []
    for key, module in model.base_model.model.named_modules():
        if isinstance(module, LoraLayer) and adapter in module.lora_A:
            if type(module) is not Linear or adapter in module.lora_variant:
                return None
            found.append((key, module))
    return tuple(found) or None


def _model_converted(model: Any) -> bool:
    """Whether transformers v5 registers a weight conversion for this model type (MoE models):
    peft then rewrites configs and weights, which only its own path does."""
    try:
        from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    except ImportError:   # transformers v4: peft converts nothing
        return False
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type is None:
        return False
    return get_checkpoint_conversion_mapping(model_type) is not None  # type: ignore[no-untyped-call]
