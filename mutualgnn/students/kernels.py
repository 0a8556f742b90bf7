"""CPU kernels the built-in students use: sparse bag-of-words features that stay sparse
through dropout and the first projection, and a faster dropout with an optional per-student
random stream. Any ``nn.Module`` student may use them; none of them knows of training."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch import nn


class SparseFeatures:
    """A constant sparse feature matrix (N, F) in CSR form, with its transpose kept for the
    backward pass of :class:`SparseLinear`. Build it once per graph with :meth:`from_dense`;
    :class:`FeatureDropout` returns a copy with dropped-out values."""

    def __init__(
        self,
        csr: torch.Tensor,
        csr_t: torch.Tensor,
        perm: torch.Tensor,
        dense: torch.Tensor | None = None,
    ):
        self.csr, self.csr_t, self.perm = csr, csr_t, perm
        self.dense = dense  #: the (N, F) tensor it was made from, for students that want it

    @classmethod
    def from_dense(cls, feat: torch.Tensor) -> SparseFeatures:
        with warnings.catch_warnings():  # torch flags sparse CSR as beta
            warnings.simplefilter("ignore", UserWarning)
            return cls._from_dense(feat)

    @classmethod
    def _from_dense(cls, feat: torch.Tensor) -> SparseFeatures:
        coo = feat.to_sparse().coalesce()
        n = coo.values().numel()
        # order of the stored values in the transpose's CSR layout
        perm = (
            torch.sparse_coo_tensor(coo.indices(), torch.arange(n, dtype=torch.float64), coo.shape)
            .t()
            .coalesce()
            .values()
            .long()
        )
        csr_t = (
            torch.sparse_coo_tensor(coo.indices().flip(0), coo.values(), coo.shape[::-1])
            .coalesce()
            .to_sparse_csr()
        )
        return cls(coo.to_sparse_csr(), csr_t, perm, dense=feat)

    @property
    def shape(self):
        return self.csr.shape

    def to(self, device) -> SparseFeatures:
        """The same matrix with ``csr`` (N, F), ``csr_t`` (F, N) and ``perm`` (nnz,) on
        ``device`` (not copied when already there)."""
        return SparseFeatures(
            self.csr.to(device),
            self.csr_t.to(device),
            self.perm.to(device),
            None if self.dense is None else self.dense.to(device),
        )

    def with_values(self, values: torch.Tensor) -> SparseFeatures:
        csr = torch.sparse_csr_tensor(
            self.csr.crow_indices(), self.csr.col_indices(), values, self.csr.shape
        )
        csr_t = torch.sparse_csr_tensor(
            self.csr_t.crow_indices(), self.csr_t.col_indices(), values[self.perm], self.csr_t.shape
        )
        return SparseFeatures(csr, csr_t, self.perm)

    def to_dense(self) -> torch.Tensor:
        return self.csr.to_dense()


def dense_features(feat):
    """``feat`` as a dense (N, F) tensor: a :class:`SparseFeatures`' original, or ``feat``."""
    if isinstance(feat, SparseFeatures):
        return feat.dense if feat.dense is not None else feat.to_dense()
    return feat


class SparseMatmul(torch.autograd.Function):
    """X @ W for constant sparse X (CSR) and dense W, with a fast CSR backward for W."""

    @staticmethod
    def forward(ctx, weight_t, csr, csr_t):
        ctx.csr_t = csr_t
        return csr @ weight_t

    @staticmethod
    def backward(ctx, grad):
        return ctx.csr_t @ grad, None, None


class Dropout(nn.Dropout):
    """``nn.Dropout`` with the same distribution, drawn as ``rand >= p``: about twice as fast on
    CPU as torch's Bernoulli sampler, which dominated the dropout of large inputs and of GAT's
    attention over every edge. :func:`~mutualgnn.students.build_student` puts it in place of every ``nn.Dropout``.

    ``generator`` (None: torch's global stream) is the random stream the masks are drawn from,
    on the device of the inputs; :func:`use_generator` gives a student its own."""

    generator: torch.Generator | None = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p >= 1:
            return x * 0
        if self.generator is None:
            noise = torch.rand_like(x)
        else:
            noise = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        return x * noise.ge_(self.p).mul_(1.0 / (1.0 - self.p))


def use_generator(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Draw every dropout mask of ``model`` from ``generator``: a student with its own random
    stream trains the same whether its peers run before it, after it or in another process
    (:mod:`mutualgnn.training.distributed`). Such students are never fused (:class:`~mutualgnn.training.fused.Cohort`).
    A generator belongs to one device: give the one the model trains on
    (:func:`student_generator` makes it for a device)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator
    model.generator = generator
    return model


def fast_dropout(model: nn.Module) -> nn.Module:
    for module in list(model.modules()):
        for name, child in module.named_children():
            if type(child) is nn.Dropout:  # noqa: E721 (exactly torch's, e.g. inside DGL layers)
                setattr(module, name, Dropout(child.p))
    return model


class FeatureDropout(Dropout):
    """Input dropout that also accepts :class:`SparseFeatures`.

    Dropout leaves zeros at zero, so dropping only the stored values of a sparse bag-of-words
    matrix draws the same distribution as dense dropout, at a fraction of the cost. Sparse input
    stays sparse when ``densify`` is False (for a :class:`SparseLinear` next), else becomes dense.
    """

    def __init__(self, p: float = 0.5, densify: bool = True):
        super().__init__(p)
        self.densify = densify

    def forward(self, feat):
        if not isinstance(feat, SparseFeatures):
            return super().forward(feat)
        if self.training and self.p > 0:
            feat = feat.with_values(super().forward(feat.csr.values()))
        return feat.to_dense() if self.densify else feat


class SparseLinear(nn.Linear):
    """``nn.Linear`` that also takes :class:`SparseFeatures` (N, F) -> dense (N, out)."""

    def forward(self, x):
        if not isinstance(x, SparseFeatures):
            return super().forward(x)
        out = SparseMatmul.apply(self.weight.t(), x.csr, x.csr_t)
        return out if self.bias is None else out + self.bias


def sparse_copy(linear: nn.Linear) -> SparseLinear:
    """A :class:`SparseLinear` with the same shape and initial parameters as ``linear``."""
    out = SparseLinear(linear.in_features, linear.out_features, bias=linear.bias is not None)
    out.load_state_dict(linear.state_dict())
    return out


def student_generator(seed: int, k: int, device="cpu") -> torch.Generator:
    """The random stream of student ``k`` under run seed ``seed`` (numpy's ``SeedSequence``
    of ``[seed, k]``): independent of every other student's and of torch's global stream. A
    generator draws on one device, ``device`` (the student's); the same seed draws other
    numbers on a GPU than on the CPU."""
    state = int(np.random.SeedSequence([seed, k]).generate_state(1, dtype=np.uint64)[0])
    return torch.Generator(device=device).manual_seed(state)
