"""The page's furniture: what has nothing to show closes the page together, in neutral colours;
notes a figure group shares are said once, above the group."""

import re

import pandas as pd

from radsweep.reports.html import ABSENT, STYLE, render, shared_notes
from radsweep.reports.section import Section, empty

TABLE = pd.DataFrame({"value": [1.0]})


def _shown(name: str, notes: tuple[str, ...] = ()) -> Section:
    return Section(name, f"Title {name}", "caption", TABLE, notes=list(notes), table=TABLE)


def _page(sections: list[Section]) -> str:
    return render(sections, {}, {}, "a store", "3 runs")


def test_empty_sections_close_the_page_together_with_why() -> None:
    sections = [
        _shown("findings"),
        empty("ablation-lambda", "Ablation: lambda", "caption", "no runs vary lam"),
        _shown("sample-efficiency-auc"),
        empty("table-7", "Table 7", "caption", "no text-only runs"),
        _shown("curves-a"),
    ]
    page = _page(sections)
    order = [page.index(f'id="{name}"') for name in ("findings", "sample-efficiency-auc")]
    order += [page.index(f'id="{name}"') for name in ("curves-a", ABSENT)]
    assert order == sorted(order)
    closing = page[page.index(f'<section id="{ABSENT}">') :]
    assert "Not in this study" in closing
    assert '<li id="ablation-lambda"><b>Ablation: lambda</b>: no runs vary lam</li>' in closing
    assert '<li id="table-7"><b>Table 7</b>: no text-only runs</li>' in closing
    assert "Nothing to show" not in page
    contents = re.search(r"<nav>.*</nav>", page, re.S)
    assert contents is not None
    items = re.findall(r"<li[^>]*>(.*?)</li>", contents.group(0))
    assert [item.split('">')[1].split("<")[0] for item in items[:3]] == [
        "Title findings",
        "Title sample-efficiency-auc",
        "Title curves-a",
    ]
    assert items[3].endswith("Not in this study</a>: Ablation: lambda, Table 7")


def _is_grey(colour: str) -> bool:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    red, green, blue = (int(digits[index : index + 2], 16) for index in (0, 2, 4))
    return red == green == blue


def test_missing_and_absent_items_are_neutral() -> None:
    partial = _shown("sample-efficiency-auc")
    partial.missing = ["Synthetic age: C2L, fraction 0.5"]
    page = _page([partial, empty("table-7", "Table 7", "caption", "no text-only runs")])
    classes = set(re.findall(r'class="([^"]+)"', page))
    assert "missing" not in classes
    colours = re.findall(r"color:\s*(#[0-9a-fA-F]{3,6})", STYLE)
    assert colours and all(_is_grey(colour) for colour in colours)
    assert '<span class="pending">(1 missing)</span>' in page


def test_notes_a_group_shares_are_shown_once_above_it() -> None:
    held = "Synthetic age: distill τ held at 0.25"
    group = [
        _shown("distillation-auc-a", notes=(held, "own note of the AUC figure")),
        _shown("distillation-auprc-a", notes=(held,)),
        _shown("distillation-seeds-a", notes=(held,)),
    ]
    for section in group:
        section.group = "distillation-a"
    page = _page([_shown("findings"), *group, _shown("table-7", notes=(held,))])
    assert page.count("τ held at 0.25") == 2  # once for the group, once for the table outside it
    block = page.index('id="notes-distillation-a"')
    assert page.index(held) == page.index(held, block)
    assert block < page.index('id="distillation-auc-a"')
    assert "Notes for the 3 figures below (1)" in page
    assert page.count("own note of the AUC figure") == 1


def test_only_notes_every_member_carries_are_shared() -> None:
    first = _shown("a", notes=("both", "first only"))
    second = _shown("b", notes=("both",))
    assert shared_notes([first, second]) == ["both"]
    assert shared_notes([first]) == []
    first.group = second.group = "g"
    lone = _shown("c", notes=("lone note",))
    lone.group = "h"
    page = _page([first, second, lone])
    assert 'id="notes-h"' not in page and page.count("lone note") == 1
    assert page.count("first only") == 1 and page.count(">both<") == 1


def test_text_columns_are_left_aligned_and_numbers_right() -> None:
    table = pd.DataFrame({"task": ["a", "b"], "auc": [0.7, 0.8], "verdict": ["x", "y"]})
    page = _page([Section("t7", "Table", "caption", table, table=table)])
    rules = re.findall(r"#table-t7 td:nth-child\((\d+)\)", page)
    assert rules == ["1", "3"]  # task and verdict; auc keeps the page's right alignment
