"""The paper's Table 7: a text-only model against the best image-only model, per task and size.

How much the report alone says about the label, next to the best any frozen image backbone does.
"""

import pandas as pd

from radsweep.reports.efficiency import image_rows
from radsweep.reports.points import describe, latest_per_point, point_stats, prefer
from radsweep.reports.section import Section
from radsweep.reports.style import task_order, task_title

LEVEL = 0.95
POINT = ["task", "series", "fraction"]
TITLE = "Table 7: text-only vs the best image-only model"
CAPTION = (
    "Final-epoch AUC (in percent) on the scored rows of a text-only model (the report alone, "
    "main text encoder) and of the best image-only backbone (attention head) at the same "
    "training fraction; mean (standard deviation) across seeds. The best backbone is the one "
    "with the highest mean AUC on the selection rows, which score nothing; where a candidate "
    "has none (validation scoring, as the paper) it is picked on the scored rows, as the paper "
    "does, which favours it when backbones are close (column picked on). The CSV adds the 95 % "
    "t-intervals."
)
PICKED_ON_SELECTION = "selection rows"
PICKED_ON_SCORES = "scored rows"


def _stats(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Per point: the final AUC's statistics, and the selection rows' mean AUC where every seed
    has one (``selection_mean``, else NaN)."""
    rows, notes = latest_per_point(rows, POINT)
    stats = point_stats(rows, POINT, "final_auc", LEVEL)
    selection = {
        point: group["selection_auc"].mean()
        for point, group in rows.groupby(POINT, dropna=False)
        if group["selection_auc"].notna().all()
    }
    points = stats[POINT].itertuples(index=False, name=None)
    stats["selection_mean"] = [selection.get(point, float("nan")) for point in points]
    return stats, notes


def _pick(candidates: pd.DataFrame) -> tuple[pd.Series, str]:
    """The best image-only point: on the selection rows when every candidate has them."""
    on_selection = bool(candidates["selection_mean"].notna().all())
    means = candidates["selection_mean" if on_selection else "mean"].to_numpy(dtype=float)
    picked_on = PICKED_ON_SELECTION if on_selection else PICKED_ON_SCORES
    return candidates.iloc[int(means.argmax())], picked_on


def _cell(mean: float, sd: float) -> str:
    return f"{100 * mean:.1f} ({100 * sd:.1f})" if pd.notna(sd) else f"{100 * mean:.1f}"


def table7(rows: pd.DataFrame) -> Section:
    model = rows[rows["stage"] == "model"]
    text, _ = prefer(model[model["method"] == "text"], "text_encoder")
    image = image_rows(model)
    text_stats, notes = _stats(text)
    image_stats, image_notes = _stats(image)
    missing = [
        f"{task_title(task)}: no text-only runs"
        for task in task_order(set(image_stats["task"]) - set(text_stats["task"]))
    ]
    records = []
    for point in text_stats.itertuples(index=False):
        candidates = image_stats[
            (image_stats["task"] == point.task) & (image_stats["fraction"] == point.fraction)
        ]
        record = {
            "task": point.task,
            "fraction": point.fraction,
            "n_train": point.n_train,
            "text_encoder": point.series,
            **{f"text_{key}": getattr(point, key) for key in ("mean", "sd", "low", "high")},
            "text_seeds": point.seeds,
            "text_run_key": point.run_key,
        }
        if candidates.empty:
            where = describe({"task": point.task, "fraction": point.fraction})
            missing.append(f"{where}: no image-only run")
        else:
            best, picked_on = _pick(candidates)
            record |= {
                "image_model": best["series"],
                "image_picked_on": picked_on,
                "image_seeds": best["seeds"],
                "image_run_key": best["run_key"],
            }
            record |= {f"image_{key}": best[key] for key in ("mean", "sd", "low", "high")}
        records.append(record)
    data = pd.DataFrame(records)
    if not data.empty:
        rank = {task: index for index, task in enumerate(task_order(data["task"]))}
        data = data.assign(rank=data["task"].map(rank)).sort_values(["rank", "fraction"])
        data = data.drop(columns="rank").reset_index(drop=True)
    return Section(
        "table-7",
        TITLE,
        CAPTION,
        data,
        missing=missing,
        notes=notes + image_notes,
        table=_display(data),
    )


def _display(data: pd.DataFrame) -> pd.DataFrame:
    if data.empty:
        return data
    shown = pd.DataFrame(
        {
            "task": data["task"].map(task_title),
            "fraction": data["fraction"].map("{:g}".format),
            "training images": data["n_train"].map(lambda n: f"{n:,.0f}" if pd.notna(n) else "?"),
            "text model": data["text_encoder"],
            "text AUC (sd)": [
                _cell(m, s) for m, s in zip(data["text_mean"], data["text_sd"], strict=True)
            ],
        }
    )
    if "image_mean" in data:
        shown["image AUC (sd)"] = [
            _cell(m, s) if pd.notna(m) else "missing"
            for m, s in zip(data["image_mean"], data["image_sd"], strict=True)
        ]
        shown["image model"] = data["image_model"].fillna("missing")
        shown["picked on"] = data["image_picked_on"].fillna("")
    return shown
