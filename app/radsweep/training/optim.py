"""Adam over seed-stacked parameters, where a step may leave some seeds untouched.

``torch.optim.Adam`` updates a whole tensor; with seeds stacked in one tensor, a seed whose epoch
has fewer batches than another's must skip a step entirely (no moment decay, no step count), or it
stops matching a run of that seed alone. The update itself follows torch's single-tensor Adam
(betas 0.9/0.999, eps 1e-8, no weight decay), which the tests use as the oracle.
"""

import torch
from torch import nn


class StackedAdam:
    """Adam with a per-seed step count; ``step(active)`` updates only the active seeds."""

    def __init__(
        self,
        parameters: list[nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        self.parameters = parameters
        self.lr, self.betas, self.eps = lr, betas, eps
        seeds = parameters[0].shape[0]
        device = parameters[0].device
        self.steps = torch.zeros(seeds, dtype=torch.float64, device=device)
        self.first = [torch.zeros_like(p) for p in parameters]
        self.second = [torch.zeros_like(p) for p in parameters]

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    @torch.no_grad()
    def step(self, active: torch.Tensor | None = None) -> None:
        """One Adam step; ``active`` (bool ``[S]``, None = all) picks the seeds that take it."""
        beta1, beta2 = self.betas
        self.steps += 1 if active is None else active
        correction1 = (1 - beta1**self.steps).clamp_min(1e-30)
        correction2_sqrt = (1 - beta2**self.steps).clamp_min(1e-30).sqrt()
        for parameter, first, second in zip(self.parameters, self.first, self.second, strict=True):
            grad = parameter.grad
            if grad is None:
                continue
            shape = (-1,) + (1,) * (parameter.dim() - 1)
            new_first = first.lerp(grad, 1 - beta1)
            new_second = second * beta2 + grad * grad * (1 - beta2)
            denominator = new_second.sqrt() / correction2_sqrt.view(shape).to(grad.dtype)
            step_size = (self.lr / correction1).view(shape).to(grad.dtype)
            update = step_size * new_first / (denominator + self.eps)
            if active is None:
                first.copy_(new_first)
                second.copy_(new_second)
                parameter.sub_(update)
            else:
                keep = active.view(shape)
                first.copy_(torch.where(keep, new_first, first))
                second.copy_(torch.where(keep, new_second, second))
                parameter.sub_(torch.where(keep, update, 0))
