"""A spec's dashboard in the W&B app: a report and a saved workspace view, built with W&B's own
``wandb-workspaces`` library (no hand-written GraphQL).

The panels are the paper's, on the spec's runs only (every run set is filtered to the spec's W&B
run groups, ``schema.group``): AUC against training-set size per method and backbone, the paired
findings, per-epoch curves against ``schema.STEP``, and the teacher against its student.

W&B plots history against a step, and a run's training-set size is one number per run, so AUC
against size is a scatter plot of each run's summary (``running_ymean`` draws the trend through a
method's runs), one run set per method, one panel per backbone. The paired findings are a
markdown block computed from the results store: a seed-paired difference with its t-interval is
nothing a W&B runs table or panel computes, and the store holds every seed of every arm.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from radsweep.errors import RadsweepError
from radsweep.tracking import schema

SIZE_KEY = "n_train/seed_{seed}"
FINAL_AUC = "auc/final/mean"
TEACHER_AUC = f"{schema.TEACHER}/auc/best/mean"
IMAGE_ONLY_AUC = "image_only/auc/final/mean"
CURVES = (
    ("Student AUC per epoch", "auc/mean"),
    ("Teacher AUC per epoch", f"{schema.TEACHER}/auc/mean"),
    ("Training loss per epoch", "loss/mean"),
)


@dataclass(frozen=True)
class DashboardPlan:
    """What one spec's dashboard shows: the spec's W&B run groups, the methods and backbones of
    its grid, the seed whose training-set size is the x axis, and its findings as markdown."""

    spec: str
    project: str
    entity: str | None
    groups: tuple[str, ...]
    methods: tuple[str, ...]
    backbones: tuple[str, ...]
    seed: int
    findings: str
    distils: bool


@dataclass(frozen=True)
class Dashboard:
    report_url: str
    workspace_url: str


def save_dashboard(plan: DashboardPlan) -> Dashboard:
    """Save the report and the workspace view; their URLs. The project must hold runs."""
    import wandb

    entity = plan.entity or wandb.Api().default_entity
    if entity is None:
        raise RadsweepError("W&B names no default entity for this API key", hint="pass --entity")
    names = [project.name for project in wandb.Api().projects(entity)]
    if plan.project not in names:
        raise RadsweepError(
            f"W&B project {entity}/{plan.project} does not exist yet",
            hint="register and run the spec's sweep (or radsweep sync offline runs) first",
        )
    report = _report(plan, entity).save()
    workspace = _workspace(plan, entity).save()
    return Dashboard(report_url=report.url, workspace_url=workspace.url)


def _spec_runs(plan: DashboardPlan, *more: Any) -> Any:
    """The filter of the spec's runs (its W&B groups), and ``more`` conditions."""
    from wandb_workspaces import expr

    return expr.And(expr.Metric("Group").isin(list(plan.groups)), *more)


def _runset(plan: DashboardPlan, entity: str, name: str, *filters: Any) -> Any:
    import wandb_workspaces.reports.v2 as wr

    return wr.Runset(
        entity=entity,
        project=plan.project,
        name=name,
        filters=_spec_runs(plan, *filters),
        groupby=["JobType"],
    )


def _size_panels(plan: DashboardPlan) -> list[Any]:
    """AUC against training images, one panel per backbone (a run set per method in the grid)."""
    import wandb_workspaces.reports.v2 as wr

    return [
        wr.ScatterPlot(
            title=f"{backbone}: final AUC against training images",
            x=wr.SummaryMetric(SIZE_KEY.format(seed=plan.seed)),
            y=wr.SummaryMetric(FINAL_AUC),
            log_x=True,
            running_ymean=True,
        )
        for backbone in plan.backbones
    ]


def _curve_panels() -> list[Any]:
    import wandb_workspaces.reports.v2 as wr

    return [
        wr.LinePlot(
            title=title,
            x=schema.STEP,
            y=[key],
            groupby="JobType",
            groupby_aggfunc="mean",
            groupby_rangefunc="stderr",
        )
        for title, key in CURVES
    ]


def _teacher_panels() -> list[Any]:
    import wandb_workspaces.reports.v2 as wr

    return [
        wr.ScatterPlot(
            title="Student final AUC against its teacher's AUC",
            x=wr.SummaryMetric(TEACHER_AUC),
            y=wr.SummaryMetric(FINAL_AUC),
        ),
        wr.BarPlot(
            title="Teacher, student and image-only AUC",
            metrics=[wr.SummaryMetric(k) for k in (TEACHER_AUC, FINAL_AUC, IMAGE_ONLY_AUC)],
            groupby="JobType",
        ),
        wr.WeavePanelSummaryTable(table_name=schema.COMPARISON_TABLE),
    ]


def _method_runsets(plan: DashboardPlan, entity: str, backbone: str) -> list[Any]:
    from wandb_workspaces import expr

    return [
        _runset(
            plan,
            entity,
            f"{method} ({backbone})",
            expr.Metric("JobType") == method,
            expr.Config("backbone") == backbone,
        )
        for method in plan.methods
    ]


def _report(plan: DashboardPlan, entity: str) -> Any:
    import wandb_workspaces.reports.v2 as wr

    blocks: list[Any] = [
        wr.H2("Did the report help? Paired findings"),
        wr.MarkdownBlock(text=plan.findings),
        wr.H2("AUC against training-set size"),
    ]
    for backbone, panel in zip(plan.backbones, _size_panels(plan), strict=True):
        blocks.append(wr.PanelGrid(runsets=_method_runsets(plan, entity, backbone), panels=[panel]))
    blocks += [
        wr.H2("Per-epoch curves"),
        wr.PanelGrid(runsets=[_runset(plan, entity, plan.spec)], panels=_curve_panels()),
    ]
    if plan.distils:
        from wandb_workspaces import expr

        distilled = expr.Metric("JobType").isin(["distill", "self-distill"])
        blocks += [
            wr.H2("Teacher and student"),
            wr.PanelGrid(
                runsets=[_runset(plan, entity, "distillation", distilled)],
                panels=_teacher_panels(),
            ),
        ]
    return wr.Report(
        entity=entity,
        project=plan.project,
        title=f"radsweep {plan.spec}",
        description=f"The paper's panels for the runs of spec {plan.spec}.",
        blocks=blocks,
    )


def _workspace(plan: DashboardPlan, entity: str) -> Any:
    import wandb_workspaces.workspaces as ws

    sections = [
        ws.Section(name="AUC against training-set size", panels=_size_panels(plan), is_open=True),
        ws.Section(name="Per-epoch curves", panels=_curve_panels(), is_open=True),
    ]
    if plan.distils:
        sections.append(ws.Section(name="Teacher and student", panels=_teacher_panels()))
    return ws.Workspace(
        entity=entity,
        project=plan.project,
        name=f"radsweep {plan.spec}",
        sections=sections,
        settings=ws.WorkspaceSettings(x_axis=schema.STEP),
        runset_settings=ws.RunsetSettings(filters=_spec_runs(plan), groupby=[_job_type()]),
    )


def _job_type() -> Any:
    from wandb_workspaces import expr

    return expr.Metric("JobType")


def spec_groups(spec: str, sweep_ids: Sequence[str]) -> tuple[str, ...]:
    """The W&B run groups a spec's runs are logged in: the spec's name (local and offline runs)
    and ``SPEC/SWEEP_ID`` for each W&B sweep of it."""
    names = {schema.group(spec, None), *(schema.group(spec, sweep) for sweep in sweep_ids)}
    return tuple(sorted(name for name in names if name))
