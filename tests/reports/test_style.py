"""Display names of heads come from the head catalogue, so a new head is named in reports."""

from radsweep.reports.style import head_label
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
