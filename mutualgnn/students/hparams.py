"""The students' hyper-parameters: one table of literature defaults per task and architecture,
the few dataset-specific settings the original papers used, and their validation.
``lr`` and ``weight_decay`` are optimiser settings, read by the training loop."""

from __future__ import annotations

from ..config import ConfigError, read_float

OPTIM_KEYS = ("lr", "weight_decay")

#: Literature defaults. Node level: GCN (Kipf & Welling 2017, hidden widened to 64), GAT
#: (Velickovic et al. 2018: 8 heads x 8 hidden, dropout 0.6, lr 0.005), GraphSAGE (Hamilton et al.
#: 2017, mean aggregator), GIN (Xu et al. 2019, 2 layers), an MLP baseline. Graph level: the GIN
#: recipe of Xu et al. 2019 (5 layers counting the input, 2-layer MLPs with batch norm, sum
#: readout over every layer, dropout 0.5, lr 0.01 halved every 50 epochs, batch 32), reused for
#: the other convolutions. A graph-level GCN aggregates with ``norm`` "both" (Kipf & Welling's
#: symmetric normalisation) or "right" (the mean: Xu et al.'s GCN baseline).
DEFAULTS: dict[str, dict[str, dict]] = {
    "node": {
        "gcn": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
        "gat": dict(
            hidden=8,
            heads=8,
            out_heads=1,
            dropout=0.6,
            attn_dropout=0.6,
            lr=0.005,
            weight_decay=5e-4,
        ),
        "sage": dict(hidden=64, dropout=0.5, aggregator="mean", lr=0.01, weight_decay=5e-4),
        "gin": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
        "mlp": dict(hidden=64, dropout=0.5, lr=0.01, weight_decay=5e-4),
    },
    "graph": {
        arch: dict(
            hidden=64,
            layers=5,
            dropout=0.5,
            readout="sum",
            lr=0.01,
            weight_decay=0.0,
            **({"heads": 4} if arch == "gat" else {}),
            **({"norm": "both"} if arch == "gcn" else {}),
        )
        for arch in ("gin", "gcn", "sage", "gat")
    },
}

#: Settings the original papers used for one dataset only (GAT on PubMed: 8 output heads,
#: lr 0.01, weight decay 0.001).
DATASET_DEFAULTS: dict[tuple[str, str], dict] = {
    ("pubmed", "gat"): dict(out_heads=8, lr=0.01, weight_decay=1e-3),
}


class StudentError(ValueError):
    """Unknown architecture or hyper-parameter; the message lists the valid choices."""


def architectures(task: str) -> list[str]:
    return list(DEFAULTS[task])


def student_hparams(
    arch: str, task: str, dataset: str | None = None, overrides: dict | None = None
) -> dict:
    """The hyper-parameters of ``arch`` for ``task``: defaults, then the dataset's literature
    settings, then ``overrides``. Unknown names raise :class:`StudentError`."""
    if task not in DEFAULTS:
        raise StudentError(f"unknown task '{task}'; choose node or graph")
    if arch not in DEFAULTS[task]:
        raise StudentError(
            f"unknown {task}-level student '{arch}'; choose from: " + ", ".join(DEFAULTS[task])
        )
    hp = dict(DEFAULTS[task][arch])
    hp.update(DATASET_DEFAULTS.get((dataset or "", arch), {}) if task == "node" else {})
    unknown = sorted(set(overrides or {}) - set(hp))
    if unknown:
        raise StudentError(
            f"unknown hyper-parameter(s) {unknown} for {task}-level '{arch}'; "
            f"valid: {', '.join(sorted(hp))}"
        )
    overrides = dict(overrides or {})
    for key, value in overrides.items():
        default = hp[key]
        if (
            isinstance(default, float)
            and isinstance(value, (int, float, str))
            and not isinstance(value, bool)
        ):  # any notation ("1e-3"), finite
            try:
                value = overrides[key] = read_float(value, f"hyper-parameter '{key}' of '{arch}'")
            except ConfigError as exc:
                raise StudentError(str(exc)) from None
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or (isinstance(default, int) and not isinstance(value, int))
        ):
            raise StudentError(
                f"hyper-parameter '{key}' of '{arch}' must be a "
                f"{type(default).__name__}, got {value!r}"
            )
        if isinstance(default, str) and not isinstance(value, str):
            raise StudentError(
                f"hyper-parameter '{key}' of '{arch}' must be a string, got {value!r}"
            )
    hp.update(overrides)
    return hp
