"""The ensemble coordinator: turns the K students' logits into the soft targets they teach with.

Given logits ``z`` of shape (K, N, C) for the same N rows, :class:`Coordinator` returns
:class:`CoordinatorOutput` with

* ``targets`` (K, N, C): q_k, the soft target taught by student k (probabilities, detached);
* ``weights`` (K, N, C): the multiplicative logit weights it applied, q_k = softmax(w_k * z_k / T);
* ``loss``: a scalar training signal for the coordinator's own parameters.

Its inputs are detached: the coordinator never changes a student's gradient except through the
targets the other students learn from. Kinds (``kind``):

``alw`` (default, adaptive logit weighting)
    u_k = [z_k || -H(p_k)] (N, C+1); chi_k = LeakyReLU(u_k A_k) (N, h);
    w_k = 2 sigmoid(chi_k phi_k) (N, C) in (0, 2), phi_k initialised to 0 so w_k = 1 at start.
    Trained by sum_k CE(w_k * z_k, y) on labelled rows: the weights learn to sharpen classes a
    student gets right and damp those it gets wrong. The sigmoid bounds them, so they cannot
    collapse to 0 or diverge.
``gate``
    per-row weights over models a_k = softmax_k(LeakyReLU(u_k B_k) v_k) (N, 1), initialised
    uniform; one ensemble target q = softmax(sum_k a_k z_k / T) for every student; trained by
    CE(sum_k a_k z_k, y) on labelled rows (online distillation with a gated ensemble).
    ``weights`` holds a_k broadcast to (K, N, C), in [0, 1] and summing to 1 over k.
``temperature``
    per-row temperature T_v in [t_min, t_max] from u_k (as BGNN), initialised to T;
    q_k = softmax(z_k / T_v); trained by sum_k CE(z_k / T_v, y) on labelled rows.
    ``weights`` = T / T_v, in [T / t_max, T / t_min].
``uniform``
    no parameters, w_k = 1: plain deep mutual learning (q_k = p_k).
``sharpen``
    no parameters, a fixed w_k = ``sharpen`` (default 2, ALW's upper bound): every peer's
    prediction sharpened alike, q_k = softmax(w z_k / T). The control for ALW: does learning
    the weights per row and class add anything to a fixed sharpening?
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from . import losses

KINDS = ("alw", "gate", "temperature", "uniform", "sharpen")


@dataclass
class CoordinatorOutput:
    targets: torch.Tensor  # (K, N, C) probabilities, detached
    weights: torch.Tensor  # (K, N, C)
    loss: torch.Tensor  # scalar, for the coordinator's own parameters


class Coordinator(nn.Module):
    """See the module docstring. ``num_students`` K (K >= 2 to learn from peers; ``kd`` may
    distil one student from one teacher), ``num_classes`` C, width ``hidden``."""

    def __init__(
        self,
        num_students: int,
        num_classes: int,
        kind: str = "alw",
        hidden: int = 16,
        temperature: float = 1.0,
        t_min: float = 0.5,
        t_max: float = 4.0,
        sharpen: float = 2.0,
    ):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown coordinator kind '{kind}'; choose from: {', '.join(KINDS)}")
        if not isinstance(num_students, int) or num_students < 1:
            raise ValueError(f"a coordinator needs K >= 1 students, got {num_students}")
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        self.kind, self.num_students, self.num_classes = kind, num_students, num_classes
        self.temperature = float(temperature)
        if sharpen <= 0:
            raise ValueError("sharpen must be > 0")
        self.sharpen = float(sharpen)
        K, C, h = num_students, num_classes, hidden
        if kind in ("alw", "gate", "temperature"):
            self.A = nn.Parameter(torch.empty(K, C + 1, h))
            for k in range(K):  # the same init as nn.Linear(C + 1, h), one per student
                nn.init.kaiming_uniform_(self.A.data[k].T, a=math.sqrt(5))
            self.a_bias = nn.Parameter(torch.zeros(K, 1, h))
            out = C if kind == "alw" else 1
            self.phi = nn.Parameter(torch.zeros(K, h, out))  # zero: identity / uniform at start
            self.phi_bias = nn.Parameter(torch.zeros(K, 1, out))
        if kind == "temperature":
            if not t_min < temperature < t_max:
                raise ValueError(
                    f"need t_min < temperature < t_max, got {t_min}, {temperature}, {t_max}"
                )
            self.t_min, self.t_max = float(t_min), float(t_max)
            frac = (temperature - t_min) / (t_max - t_min)
            self.t_offset = math.log(frac / (1 - frac))  # sigmoid(offset) puts T_v at T initially

    def _unit(self, z: torch.Tensor) -> torch.Tensor:
        """(K, N, C) detached logits -> (K, N, out) raw scores of the per-model units.

        Computed with the rows last, (K, features, N): the products with C+1 and h inputs
        and the activations then vectorise along the N rows (1.8x faster than rows first at
        K = 4, N = 2708, C = 7, forward and backward)."""
        neg_entropy = -losses.entropy(z, self.temperature).unsqueeze(1)  # (K, 1, N)
        u = torch.cat([z.transpose(1, 2), neg_entropy], dim=1)  # (K, C+1, N)
        chi = F.leaky_relu(
            torch.baddbmm(self.a_bias.transpose(1, 2), self.A.transpose(1, 2), u)
        )  # (K, h, N)
        scores = torch.baddbmm(
            self.phi_bias.transpose(1, 2), self.phi.transpose(1, 2), chi
        )  # (K, out, N)
        return scores.transpose(1, 2)  # (K, N, out)

    def forward(
        self, logits, labels: torch.Tensor | None = None, labelled: torch.Tensor | None = None
    ) -> CoordinatorOutput:
        """``logits``: (K, N, C) tensor or list of K (N, C) tensors; ``labels`` (N,) and
        ``labelled`` (index or bool mask of the labelled rows) feed the coordinator's own loss."""
        z = torch.stack(list(logits)) if not torch.is_tensor(logits) else logits
        z = z.detach()
        if z.shape[0] != self.num_students or z.shape[-1] != self.num_classes:
            raise ValueError(
                f"expected logits of shape (K={self.num_students}, N, "
                f"C={self.num_classes}), got {tuple(z.shape)}"
            )
        T = self.temperature
        zero = z.new_zeros(())
        has_labels = labels is not None and labelled is not None

        def ce(x):  # cross-entropy of (K, N, C) or (N, C) logits on the labelled rows
            if not has_labels:
                return zero
            x = x[..., labelled, :]
            y = labels[labelled]
            if y.numel() == 0:  # a sampled mini-batch without labelled nodes
                return zero
            if x.dim() == 3:
                return sum(losses.cross_entropy(x[k], y) for k in range(x.shape[0]))
            return losses.cross_entropy(x, y)

        if self.kind in ("uniform", "sharpen"):
            weights = torch.full_like(z, 1.0 if self.kind == "uniform" else self.sharpen)
            return CoordinatorOutput(losses.softmax(weights * z / T), weights, zero)
        scores = self._unit(z)
        if self.kind == "alw":
            weights = 2 * torch.sigmoid(scores)  # (K, N, C)
            weighted = weights * z
            return CoordinatorOutput(
                losses.softmax(weighted / T).detach(), weights.detach(), ce(weighted)
            )
        if self.kind == "gate":
            gate = torch.softmax(scores, dim=0)  # (K, N, 1)
            ensemble = (gate * z).sum(0)  # (N, C)
            target = losses.softmax(ensemble / T).detach()
            return CoordinatorOutput(target.expand_as(z), gate.expand_as(z).detach(), ce(ensemble))
        # temperature
        t_row = self.t_min + (self.t_max - self.t_min) * torch.sigmoid(scores + self.t_offset)
        scaled = z / t_row  # (K, N, C)
        return CoordinatorOutput(
            losses.softmax(scaled).detach(), (T / t_row).expand_as(z).detach(), ce(scaled)
        )
