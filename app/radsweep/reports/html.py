"""The report as one self-contained HTML page: figures embedded as PNG, tables inline."""

import base64
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

import pandas as pd
from pandas.api.types import is_numeric_dtype

from radsweep.reports.section import Section

FINDINGS = "findings"  # the section the page opens with
METHOD_NOTE = (
    "Each point is one run: one configuration trained with several seeds, each seed with its own "
    "training subset, validation split (where the task draws one per seed) and initialisation. "
    "Points are the mean across seeds of the <b>final-epoch</b> metric on the rows that score "
    "the run: under held-out scoring (the default) each seed's test rows, which selected "
    "nothing (the teacher's epoch is chosen on the other, selection rows); under the paper's "
    "validation scoring the validation set both chooses and scores, which is why no best-epoch "
    "metric is drawn (the results store keeps them, at the chosen epoch). "
    "Intervals are two-sided Student-t confidence intervals for that mean, "
    "mean ± t<sub>(1+level)/2, n&minus;1</sub> · s / √n, where s is the standard deviation "
    "across the n seeds (ddof 1); a point from a single seed has no interval. "
    "The findings at the top pair the arms seed by seed instead: their intervals are for the "
    "mean per-seed difference, which is narrower than either arm's own interval suggests. "
    "Sample-efficiency figures show 90 % intervals (as the paper's Figures 2 and 5); "
    "distillation figures, ablations and Table 7 use 95 %. "
    "AUC and AUPRC of multiclass tasks are micro-averaged one-vs-rest. "
    "Where several runs share a grid point (a re-run, or settings the figure does not show), "
    "the latest is used and the figure's notes say so."
)
ABSENT = "not-in-this-study"  # the closing section: what has nothing to draw from, and why
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
.files a { margin-right: 1em; }
.pending { color: #555; }
.group-notes { border-top: 1px solid #ddd; margin-top: 2em; }
section { border-top: 1px solid #ddd; margin-top: 2em; }
"""


def _list(title: str, items: Sequence[str], css: str = "") -> str:
    if not items:
        return ""
    entries = "".join(f"<li>{escape(item)}</li>" for item in items)
    opened = " open" if len(items) <= 12 else ""
    css = f' class="{css}"' if css else ""
    return (
        f"<details{css}{opened}><summary>{escape(title)} ({len(items)})</summary>"
        f"<ul>{entries}</ul></details>"
    )


def _section(
    section: Section, png: bytes | None, files: Sequence[str], shared: Sequence[str] = ()
) -> str:
    """One shown section; ``shared`` notes are on the page once, above its group."""
    parts = [f'<section id="{escape(section.name)}"><h2>{escape(section.title)}</h2>']
    parts.append(f"<p>{escape(section.caption)}</p>")
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="{escape(section.title)}">')
    if section.table is not None and not section.table.empty:
        parts.append(_table(section.name, section.table))
    if files:
        links = "".join(
            f'<a href="{escape(path)}">{escape(path.rsplit(".", 1)[-1].upper())}</a>'
            for path in files
        )
        parts.append(f'<p class="files">Files: {links}</p>')
    if section.missing:
        parts.append(_list("Missing grid points", section.missing, "pending"))
    parts.append(_list("Notes", [note for note in section.notes if note not in shared]))
    if section.links:
        anchors = "".join(
            f'<li><a href="{escape(url)}">{escape(label)}</a></li>' for label, url in section.links
        )
        parts.append(f'<p class="links">In W&B:</p><ul>{anchors}</ul>')
    parts.append("</section>")
    return "\n".join(parts)


def _table(name: str, table: pd.DataFrame) -> str:
    """A wide table scrolls, not the page; text columns read left-aligned, numbers right.

    pandas' ``to_html`` keeps its number formatting but cannot align per column, so the text
    columns get a rule scoped to this table."""
    html = table.to_html(index=False, escape=True, border=0)
    scope = f"table-{escape(name)}"
    text = [i + 1 for i, column in enumerate(table.columns) if not is_numeric_dtype(table[column])]
    rules = "".join(
        f"#{scope} td:nth-child({i}), #{scope} th:nth-child({i}) {{ text-align: left; }}"
        for i in text
    )
    style = f"<style>{rules}</style>" if rules else ""
    return f'{style}<div class="table" id="{scope}">{html}</div>'


def shared_notes(members: Sequence[Section]) -> list[str]:
    """The notes every section of a group of two or more carries: said once, above the group."""
    if len(members) < 2:
        return []
    first, *others = members
    return [note for note in dict.fromkeys(first.notes) if all(note in o.notes for o in others)]


def _body(
    sections: Sequence[Section], images: dict[str, bytes], files: dict[str, list[str]]
) -> str:
    """Shown sections in order; each group's shared notes once, before its first section."""
    parts = []
    for group, grouped in itertools.groupby(sections, key=lambda section: section.group or None):
        members = list(grouped)
        shared = shared_notes(members) if group else []
        if group and shared:
            title = f"Notes for the {len(members)} figures below ({len(shared)})"
            notes = "".join(f"<li>{escape(note)}</li>" for note in shared)
            parts.append(
                f'<div class="group-notes" id="notes-{escape(group)}">'
                f"<h3>{escape(title)}</h3><ul>{notes}</ul></div>"
            )
        parts += [
            _section(member, images.get(member.name), files.get(member.name, []), shared)
            for member in members
        ]
    return "\n".join(parts)


def _absent(sections: Sequence[Section]) -> str:
    """The closing section: every figure or table with nothing to draw, and why, together."""
    if not sections:
        return ""
    items = "".join(
        f'<li id="{escape(section.name)}"><b>{escape(section.title)}</b>: '
        f"{escape('; '.join(section.missing) or 'no runs')}</li>"
        for section in sections
    )
    return (
        f'<section id="{ABSENT}"><h2>Not in this study</h2>'
        "<p>These figures and tables have no runs to draw from; each says why. "
        "They appear once their runs are in the results.</p>"
        f"<ul>{items}</ul></section>"
    )


def _contents(shown: Sequence[Section], absent: Sequence[Section]) -> str:
    entries = [
        f'<li><a href="#{escape(section.name)}">{escape(section.title)}</a>'
        + (
            f' <span class="pending">({len(section.missing)} missing)</span>'
            if section.missing
            else ""
        )
        + "</li>"
        for section in shown
    ]
    if absent:
        titles = ", ".join(escape(section.title) for section in absent)
        entries.append(
            f'<li class="pending"><a href="#{ABSENT}">Not in this study</a>: {titles}</li>'
        )
    return "".join(entries)


def render(
    sections: Sequence[Section],
    images: dict[str, bytes],
    files: dict[str, list[str]],
    source: str,
    counts: str,
) -> str:
    """The page: source, the findings (when ``sections`` opens with them), how to read it (CI
    method), contents, then every other section; what has nothing to show closes the page,
    listed together with why, so a young study does not read as a broken one."""
    shown = [section for section in sections if section.shown]
    absent = [section for section in sections if not section.shown]
    opening = [section for section in shown[:1] if section.name == FINDINGS]
    rest = shown[len(opening) :]
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>radsweep report</title><style>{STYLE}</style></head><body>\n"
        "<h1>When do radiology reports help? radsweep report</h1>\n"
        f"<p>From {escape(source)}: {escape(counts)}. Generated {created}.</p>\n"
        f"{_body(opening, images, files)}\n"
        f'<section id="how-to-read"><h2>How to read this report</h2><p>{METHOD_NOTE}</p>'
        "</section>\n"
        f"<nav><h2>Contents</h2><ol>{_contents(shown, absent)}</ol></nav>\n"
        f"{_body(rest, images, files)}\n{_absent(absent)}\n</body></html>\n"
    )
