"""Experiment configuration as dataclasses; YAML files and ``--set key=value`` map onto them.

An experiment is declared, not coded: :class:`ExperimentConfig` names the dataset, the cohort,
the method, the seeds and every coefficient. ``ExperimentConfig.from_dict`` rejects unknown keys
with the list of valid ones.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from dataclasses import dataclass, field

import torch
import yaml

from .mutual.coordinator import KINDS as COORDINATORS
from .mutual.methods import METHOD_NAMES
from .mutual.methods import method, method_settings
from .mutual.settings import KL_ROWS, MutualConfig
from .validation import ConfigError, read_float
from .validation import check_types as _check_types

NODE_SPLITS = (
    "public",
    "random",
)  #: ExperimentConfig.node_split: the dataset's own, or Shchur et al.'s random
#: ExperimentConfig.features: node features as loaded, standardised, or standardised where a
#: graph dataset has continuous attributes (:func:`mutualgnn.data.with_features`)
FEATURES = ("raw", "standard", "auto")
#: TrainConfig.optimizer: the students' optimiser (torch.optim.Adam, AdamW or SGD)
OPTIMIZERS = ("adam", "adamw", "sgd")


@dataclass
class TrainConfig:
    """The training loop. ``None`` means the task's literature default (see ``resolved``)."""

    epochs: int | None = None  #: node 500, graph 350 (Xu et al.)
    patience: int | None = None  #: stop when no student improved on validation for this long
    batch_size: int | None = None  #: per mini-batch: graphs (graph tasks; 32) or seed
    #: nodes (node tasks with ``fanouts``; 1024)
    #: node tasks: neighbours sampled per layer, e.g. [10, 10] (DGL's NeighborSampler, mini-batches
    #: of seed nodes; docs/method.md); None = full-batch training
    fanouts: list | None = None
    #: the students' optimiser: adam | adamw | sgd, with each student's ``lr`` and
    #: ``weight_decay`` (its hparams); the coordinator's is Adam (``mutual.coordinator_lr``)
    optimizer: str = "adam"
    momentum: float = 0.0  #: sgd only: torch.optim.SGD's momentum
    lr_step: int | None = None  #: multiply the learning rate by lr_decay every lr_step
    lr_decay: float = 0.5  #: epochs (graph: 50; None = a constant rate)
    threads: int | None = None  #: torch and DGL threads; None = the cores available
    #: run same-architecture students as one model where it pays (fused.py, fusion_pays)
    fuse: bool = True
    #: each student draws dropout from its own stream seeded by (seed, student): the numbers then
    #: do not depend on how students are run (distributed runs set it); students are not fused
    student_rng: bool = False
    progress: bool = True  #: tqdm progress bars
    #: where students, coordinator and data live: cpu | cuda | cuda:N | auto (cuda when torch
    #: sees a GPU, else cpu); checked when a run starts (:meth:`torch_device`), so a GPU run's
    #: saved config still loads on a machine without one
    device: str = "cpu"

    def __post_init__(self):
        positive = ("epochs", "patience", "batch_size", "lr_step", "threads")
        _check_types(
            self,
            "train.",
            int=positive,
            float=("lr_decay", "momentum"),
            bool=("progress", "fuse", "student_rng"),
            str=("device", "optimizer"),
        )
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"train.optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError(
                f"train.momentum is SGD's; with train.optimizer "
                f"{self.optimizer!r} leave it 0 (or set train.optimizer=sgd)"
            )
        for key in positive:
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ConfigError(f"train.{key} must be >= 1, got {getattr(self, key)}")
        self.fanouts = _fanouts(self.fanouts)
        if not re.fullmatch(r"cpu|cuda(:\d+)?|auto", self.device):
            raise ConfigError(
                f"train.device must be cpu, cuda, cuda:N (a GPU's index) or auto, "
                f"got {self.device!r}"
            )

    def torch_device(self) -> torch.device:
        """:attr:`device` on this machine: ``auto`` is cuda when torch sees a GPU, else cpu; a
        cuda device comes with its index (plain ``cuda``: torch's current GPU). Raises
        :class:`ConfigError` when the GPU asked for is not there."""
        name = self.device
        if name == "auto":
            name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(name)
        if device.type == "cpu":
            return device
        if not torch.cuda.is_available():
            build = (
                "a CPU-only build"
                if torch.version.cuda is None
                else f"built for CUDA {torch.version.cuda}"
            )
            raise ConfigError(
                f"train.device is {self.device!r} but torch sees no CUDA GPU (torch "
                f"{torch.__version__}, {build}): on a machine with an NVIDIA GPU "
                f"install the CUDA builds of torch and DGL, or train on the CPU "
                f"with --device cpu"
            )
        if device.index is None:
            return torch.device("cuda", torch.cuda.current_device())
        if device.index >= torch.cuda.device_count():
            raise ConfigError(
                f"train.device is {self.device!r} but this machine has "
                f"{torch.cuda.device_count()} GPU(s), cuda:0 to "
                f"cuda:{torch.cuda.device_count() - 1}: choose one of them"
            )
        return device

    def resolved(self, task: str) -> TrainConfig:
        defaults = {
            "node": dict(epochs=500, patience=100, lr_step=None, batch_size=1024),
            "graph": dict(epochs=350, patience=100, lr_step=50, batch_size=32),
        }[task]
        if task == "graph" and self.fanouts is not None:
            raise ConfigError(
                "train.fanouts samples the neighbours of a node task's nodes; graph "
                "tasks train on mini-batches of whole graphs: leave it unset"
            )
        out = dataclasses.replace(self)
        for key, value in defaults.items():
            if getattr(out, key) is None:
                setattr(out, key, value)
        return out


@dataclass
class ExperimentConfig:
    """One experiment: a cohort trained with one method over seeds (and folds)."""

    dataset: str = "karate"
    students: list = field(default_factory=lambda: ["gcn"])
    method: str = "independent"
    seeds: list = field(default_factory=lambda: [0])
    folds: int = 10  #: graph tasks: stratified CV folds
    split_seed: int = 0  #: seed of the fold assignment or random split (fixed across methods)
    node_split: str = "public"  #: node tasks: public split, or random (20 + 30 per class)
    label_noise: float = 0.0  #: fraction of training labels flipped to another class
    features: str = "raw"  #: raw | standard (by training rows' statistics) | auto
    data_dir: str | None = None
    train: TrainConfig = field(default_factory=TrainConfig)
    mutual: MutualConfig = field(default_factory=MutualConfig)
    hparams: dict = field(default_factory=dict)  #: per architecture: {"gcn": {"hidden": 32}}

    def __post_init__(self):
        _check_types(
            self,
            "",
            int=("folds", "split_seed"),
            str=("dataset", "method", "features", "node_split"),
            float=("label_noise",),
        )
        if isinstance(self.data_dir, os.PathLike):
            self.data_dir = os.fspath(self.data_dir)
        if self.data_dir is not None and not isinstance(self.data_dir, str):
            raise ConfigError(f"data_dir must be a folder's path, got {self.data_dir!r}")
        if self.features not in FEATURES:
            raise ConfigError(
                f"unknown features '{self.features}'; choose from: {', '.join(FEATURES)}"
            )
        if self.node_split not in NODE_SPLITS:
            raise ConfigError(
                f"unknown node_split '{self.node_split}'; choose from: {', '.join(NODE_SPLITS)}"
            )
        if not 0 <= self.label_noise < 1:
            raise ConfigError(f"label_noise must be a fraction in [0, 1), got {self.label_noise}")
        if not isinstance(self.hparams, dict) or not all(
            isinstance(v, dict) for v in self.hparams.values()
        ):
            raise ConfigError(
                "hparams must map architectures to settings, e.g. {gcn: {hidden: 32}}"
            )
        if isinstance(self.students, str):
            self.students = [s.strip() for s in self.students.split(",") if s.strip()]
        if (
            not isinstance(self.students, list)
            or not self.students
            or not all(isinstance(a, str) for a in self.students)
        ):
            raise ConfigError("students: name at least one student architecture, e.g. gcn,gat")
        if self.method not in METHOD_NAMES:
            raise ConfigError(
                f"unknown method '{self.method}'; choose from: {', '.join(METHOD_NAMES)}"
            )
        if not isinstance(self.train, TrainConfig) or not isinstance(self.mutual, MutualConfig):
            raise ConfigError("train and mutual must be a TrainConfig and a MutualConfig")
        if method(self.method).mutual and len(self.students) < 2:
            raise ConfigError(
                f"method '{self.method}' needs a cohort of at least 2 students "
                f"(got {self.students}); use e.g. --students gcn,gcn"
            )
        if self.folds < 2:
            raise ConfigError("folds must be >= 2")
        self.seeds = parse_numbers(self.seeds)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ExperimentConfig:
        data = dict(data or {})
        check_keys(data, cls, "")
        for key, sub in (("train", TrainConfig), ("mutual", MutualConfig)):
            if key in data:
                if not isinstance(data[key], dict):
                    raise ConfigError(f"'{key}' must be a mapping")
                check_keys(data[key], sub, key + ".")
                data[key] = sub(**data[key])
        return cls(**data)

    @classmethod
    def from_yaml(cls, path) -> ExperimentConfig:
        return cls.from_dict(load_yaml(path))


def _fanouts(value) -> list | None:
    """``train.fanouts`` as None or a list of positive ints; ``"10,10"`` (command line) is read."""
    if value is None:
        return None
    try:
        out = [
            int(v) if isinstance(v, str) else v
            for v in (value.split(",") if isinstance(value, str) else value)
        ]
    except (TypeError, ValueError):
        out = None
    if not out or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in out):
        raise ConfigError(
            f"train.fanouts must be a positive number of sampled neighbours per "
            f"layer, e.g. [10, 10] (--fanouts 10,10), or null for full-batch "
            f"training; got {value!r}"
        )
    return out


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, reading ``1e-3`` as a float (YAML 1.1 asks for a dot: ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                  |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                  |[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?
                  |[-+]?\.(?:inf|Inf|INF)
                  |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: what is wrong and where."""
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{getattr(exc, 'problem', None) or exc}{where}"


def parse_yaml(text: str):
    """YAML text -> Python values, with floats in any notation (``1e-3``)."""
    return yaml.load(text, Loader=_Loader)


def load_yaml(path) -> dict:
    try:
        with open(path) as fh:
            data = parse_yaml(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {_yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys to values")
    return data


def check_keys(data: dict, cls, prefix: str) -> None:
    """Raise :class:`ConfigError` naming the keys of ``data`` that are no field of the
    dataclass ``cls`` (``prefix``: where ``data`` sits, e.g. ``"train."``) and the valid ones."""
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - valid)
    if unknown:
        raise ConfigError(
            f"unknown config key(s) {', '.join(prefix + u for u in unknown)}; "
            f"valid: {', '.join(prefix + v for v in sorted(valid))}"
        )


def apply_overrides(data: dict, assignments) -> dict:
    """Apply ``key.sub=value`` strings (values parsed as YAML) to a nested dict; returns a copy."""
    out = copy.deepcopy(data)
    for item in assignments or ():
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got '{item}'")
        key, raw = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ConfigError(f"--set expects key=value, got '{item}'")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: '{part}' is not a section")
        try:
            node[parts[-1]] = parse_yaml(raw)
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"--set {key}: cannot read the value {raw!r}: {_yaml_problem(exc)}"
            ) from None
    return out


def parse_numbers(value, what: str = "seeds") -> list:
    """Whole numbers written as ranges and lists: ``"0-9"``, ``"0,3,5"``, ``"0-2,7"``, ``3`` or
    ``[0, 1]`` -> a list of ints. Seeds, folds and line numbers are written so; ``what`` names
    them in the error message."""
    if isinstance(value, int):
        return [value]
    numbers = value
    if isinstance(value, str):
        numbers = []
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                if "-" in part[1:]:
                    lo, hi = part.split("-", 1) if not part.startswith("-") else (part, part)
                    numbers.extend(range(int(lo), int(hi) + 1))
                else:
                    numbers.append(int(part))
            except ValueError:
                raise ConfigError(
                    f"cannot read {what} '{value}'; write e.g. 0-9 or 0,1,2"
                ) from None
    try:
        numbers = [int(n) for n in numbers]
    except (TypeError, ValueError):
        raise ConfigError(f"cannot read {what} {value!r}; write e.g. 0-9 or 0,1,2") from None
    if not numbers:
        raise ConfigError(f"{what}: give at least one")
    return numbers


__all__ = [
    "ConfigError",
    "TrainConfig",
    "MutualConfig",
    "ExperimentConfig",
    "COORDINATORS",
    "FEATURES",
    "KL_ROWS",
    "METHOD_NAMES",
    "apply_overrides",
    "load_yaml",
    "parse_numbers",
    "parse_yaml",
    "read_float",
    "method_settings",
]
