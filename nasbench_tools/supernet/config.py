"""Training configuration of a super-network (Table B.4 defaults) and its validation."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import ConfigError, UnknownNameError
from ..networks import build_supernet, parse_dependencies
from ..networks.base import SlotNetwork
from ..networks.conditional import Dependencies
from ..spaces import SupernetSupport, capability, spaces_with
from .data import DATA_NAMES

#: Built-in space families with super-network training (declared in their space capabilities).
SPACES = spaces_with("supernet")
SUBSETS = tuple(dict.fromkeys(s for sp in SPACES for s in capability(sp, "supernet").subsets))
#: Table B.4: epochs of the NB201 and NAS-Bench-Macro super-networks.
DEFAULT_EPOCHS = {sp: capability(sp, "supernet").epochs for sp in SPACES}
NO_SPLIT = -1


def supernet_support(space: str) -> SupernetSupport:
    """The super-network training ``space`` declares (one-line error if it has none)."""
    known = spaces_with("supernet")
    if space not in known:
        raise UnknownNameError(f"unknown super-network space {space!r}; expected one of {', '.join(known)}")
    return capability(space, "supernet")


def space_name(space: str, subset: str) -> str:
    """Registry name of the search space (``nb201-nozero`` ...) for ``--space/--subset``."""
    subsets = supernet_support(space).subsets
    if subset not in SUBSETS and subset not in subsets:
        raise UnknownNameError(f"unknown subset {subset!r}; expected one of {', '.join(SUBSETS)}")
    if subset not in subsets:
        names = ", ".join(repr(s) for s in subsets)
        raise UnknownNameError(f"space {space} has only the subset{'s' if len(subsets) > 1 else ''} {names}, "
                               f"got {subset!r}")
    return subsets[subset]


@dataclass
class TrainConfig:
    """Everything that determines a training run (saved in checkpoints, compared on resume)."""

    space: str = "nb201"
    subset: str = "full"
    epochs: int = 250
    split_epoch: int = NO_SPLIT
    data: str = "synthetic"
    lr: float = 0.025
    lr_min: float = 1e-5
    momentum: float = 0.9
    weight_decay: float = 3e-4
    batch_size: int = 256
    seed: int = 0
    val_images: int = 5000
    train_images: int | None = None
    synthetic_size: int = 512
    dependencies: str = "default"
    skip_linear: bool = True
    channels: int = 16
    cells_per_stage: int = 2
    crop_padding: int = 4
    amp: bool = False
    channels_last: bool = False

    #: options that may differ between a checkpoint and the run resuming it
    RESUME_FREE = ("amp", "channels_last")

    def validate(self) -> "TrainConfig":
        _ = self.space_name  # raises on unknown space/subset
        if self.epochs < 1:
            raise ConfigError(f"--epochs must be at least 1, got {self.epochs}")
        if self.split_epoch != NO_SPLIT and not 0 <= self.split_epoch < self.epochs:
            raise ConfigError(
                f"--split-epoch {self.split_epoch} is outside the schedule: expected 0..{self.epochs - 1} "
                f"(epochs trained before splitting) or {NO_SPLIT} for no split"
            )
        if self.data not in DATA_NAMES:
            raise UnknownNameError(f"unknown dataset {self.data!r}; expected one of {', '.join(DATA_NAMES)}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be positive, got {self.batch_size}")
        if not 0 < self.lr_min <= self.lr < float("inf"):
            raise ConfigError(f"learning rates must satisfy 0 < lr_min ({self.lr_min}) <= lr ({self.lr})")
        if self.crop_padding < 0:
            raise ConfigError(f"crop padding must be >= 0, got {self.crop_padding}")
        for name, minimum in (("channels", 1), ("cells_per_stage", 1), ("val_images", 1), ("synthetic_size", 1),
                              ("seed", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(f"--{name.replace('_', '-')} must be an integer >= {minimum}, got {value!r}")
        if self.train_images is not None and (not isinstance(self.train_images, int) or self.train_images < 1):
            raise ConfigError(f"--train-images must be an integer >= 1 (or unset for all), got {self.train_images!r}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"--momentum must be in [0, 1), got {self.momentum}")
        if not 0.0 <= self.weight_decay < float("inf"):
            raise ConfigError(f"--weight-decay must be a finite number >= 0, got {self.weight_decay}")
        self.dependency_tuple()
        return self

    @property
    def space_name(self) -> str:
        return space_name(self.space, self.subset)

    @property
    def is_split_run(self) -> bool:
        return self.split_epoch != NO_SPLIT

    def dependency_tuple(self) -> tuple[tuple[int, ...], ...]:
        default = capability(self.space_name, "dependencies", "default super-network dependencies")
        if self.dependencies == "default":
            return default
        deps = parse_dependencies(self.dependencies, len(default))
        Dependencies(deps, ((0,),) * len(default))  # checks that slots depend only on earlier ones
        return deps

    def network_kwargs(self, in_channels: int, num_classes: int) -> dict[str, Any]:
        kw: dict[str, Any] = {"in_channels": in_channels, "num_classes": num_classes}
        kw.update({name: getattr(self, name) for name in supernet_support(self.space).network_options})
        return kw

    def build_network(self, in_channels: int, num_classes: int) -> SlotNetwork:
        return build_supernet(self.space_name, self.dependency_tuple(), **self.network_kwargs(in_channels, num_classes))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        d = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    def differences(self, other: "TrainConfig") -> list[str]:
        """Options (other than :attr:`RESUME_FREE`) whose values differ."""
        a, b = asdict(self), asdict(other)
        return [f"{k}: checkpoint {b[k]!r} vs now {a[k]!r}" for k in a if k not in self.RESUME_FREE and a[k] != b[k]]

