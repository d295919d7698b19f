"""Display names of heads come from the head catalogue, so a new head is named in reports."""

from radsweep.reports.style import head_label, head_rank
from tests.training.max_pool_head import NAME, max_pool_head


def test_head_labels_come_from_the_head_catalogue() -> None:
    assert [head_label(name) for name in ("attention", "mean-lp", "cls-lp")] == [
        "Attention head",
        "Mean - LP",
        "CLS - LP",
    ]
    assert head_label(NAME) == NAME  # stored runs of a head no longer registered keep its name
    with max_pool_head():
        assert head_label(NAME) == "Max - LP"


def test_heads_are_ordered_as_the_catalogue_lists_them() -> None:
    names = ["cls-lp", NAME, "mean-lp", "attention"]
    assert sorted(names, key=head_rank) == ["attention", "mean-lp", "cls-lp", NAME]
    with max_pool_head():
        assert head_rank(NAME) == 3
