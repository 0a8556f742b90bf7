"""The settings of the mutual-learning terms (docs/method.md), validated on creation.
A method (:mod:`.methods`) forces some of them; the rest are the user's."""

from __future__ import annotations

from dataclasses import dataclass

from ..validation import ConfigError, check_types
from .coordinator import KINDS as COORDINATORS

KL_ROWS = ("all", "train")  #: MutualConfig.kl_rows: every row, or the labelled rows only


@dataclass
class MutualConfig:
    """The mutual-learning terms (see docs/method.md). The method presets set these."""

    coordinator: str = "alw"  #: alw | gate | temperature | uniform | sharpen
    lam: float = 1.0  #: weight of the mutual KL term (lambda)
    temperature: float = 1.0  #: T of the soft targets; the KL is multiplied by T^2
    gamma: float = 0.05  #: entropy enhancement coefficient
    gamma_warmup: int = 0  #: epochs over which gamma ramps linearly from 0
    kl_rows: str = "all"  #: all | train: rows the mutual KL is taken over
    alternating: bool = False  #: update students one after another (original DML)
    hidden: int = 16  #: width h of the coordinator's units
    coordinator_lr: float = 0.01
    t_min: float = 0.5  #: temperature variant: range of the per-row temperature
    t_max: float = 4.0
    sharpen: float = 2.0  #: the fixed weight of the ``sharpen`` coordinator

    def __post_init__(self):
        check_types(
            self,
            "mutual.",
            int=("gamma_warmup", "hidden"),
            bool=("alternating",),
            float=("lam", "temperature", "gamma", "coordinator_lr", "t_min", "t_max", "sharpen"),
            str=("coordinator", "kl_rows"),
        )
        if self.coordinator not in COORDINATORS:
            raise ConfigError(
                f"unknown coordinator '{self.coordinator}'; choose from: " + ", ".join(COORDINATORS)
            )
        if self.kl_rows not in KL_ROWS:
            raise ConfigError(
                f"mutual.kl_rows must be one of {', '.join(KL_ROWS)}, got {self.kl_rows!r}"
            )
        for key in ("lam", "gamma", "gamma_warmup"):
            if getattr(self, key) < 0:
                raise ConfigError(f"mutual.{key} must be >= 0, got {getattr(self, key)}")
        for key in ("temperature", "coordinator_lr", "t_min", "t_max", "sharpen", "hidden"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"mutual.{key} must be > 0, got {getattr(self, key)}")
        if self.coordinator == "temperature" and not self.t_min < self.temperature < self.t_max:
            raise ConfigError(
                f"the temperature coordinator needs mutual.t_min < "
                f"mutual.temperature < mutual.t_max, got {self.t_min}, "
                f"{self.temperature}, {self.t_max}"
            )
