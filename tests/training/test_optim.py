"""The per-seed Adam equals torch.optim.Adam per seed, and inactive seeds stay untouched."""

import torch

from radsweep.training.optim import StackedAdam


def test_stacked_adam_matches_torch_adam_per_seed() -> None:
    torch.manual_seed(0)
    stacked = torch.nn.Parameter(torch.randn(3, 4, 2))
    singles = [torch.nn.Parameter(stacked[s].detach().clone()) for s in range(3)]
    optimizer = StackedAdam([stacked], lr=1e-2)
    references = [torch.optim.Adam([p], lr=1e-2) for p in singles]
    for _ in range(5):
        grads = torch.randn(3, 4, 2)
        stacked.grad = grads.clone()
        optimizer.step()
        for s, (p, reference) in enumerate(zip(singles, references, strict=True)):
            p.grad = grads[s].clone()
            reference.step()
    for s in range(3):
        torch.testing.assert_close(stacked[s], singles[s], rtol=1e-6, atol=1e-7)


def test_inactive_seeds_skip_the_step_entirely() -> None:
    stacked = torch.nn.Parameter(torch.zeros(2, 3))
    optimizer = StackedAdam([stacked], lr=0.1)
    stacked.grad = torch.ones(2, 3)
    optimizer.step(torch.tensor([True, False]))
    assert torch.equal(stacked[1], torch.zeros(3))
    assert not torch.equal(stacked[0], torch.zeros(3))
    assert optimizer.steps.tolist() == [1.0, 0.0]
    assert torch.equal(optimizer.first[0][1], torch.zeros(3))
