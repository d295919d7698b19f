import itertools
from pathlib import Path

import pandas as pd
import pytest

from radsweep.errors import RadsweepError
from radsweep.tasks.builders.common import Counts
from radsweep.tasks.builders.mimic import (
    Deaths,
    Rule,
    build_5x1200,
    build_age,
    build_discharge,
    five_class_candidates,
)
from radsweep.tasks.builders.mimic_sources import FRONTAL_VIEWS, Labeler
from radsweep.tasks.catalogue import STUDY_TASKS
from radsweep.tasks.manifest import Manifest
from tests.tasks.builders.fixtures import (
    Image,
    Study,
    mimic_report,
    positive,
    write_mimic_cxr,
    write_mimic_iv,
)

FIVE = STUDY_TASKS["mimic-5x1200"].classes


class Ids:
    """Made-up MIMIC-shaped ids: subjects 1xxxxxxx, studies 5xxxxxxx, dicom ids hex groups."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def study(
        self, labels: dict | None, views: tuple[str, ...] = ("PA", "LATERAL"), subject=None, **kw
    ) -> Study:
        number = next(self._numbers)
        images = [Image(f"{number:08x}-{i:08x}-0000aaaa-bbbb0000-cccc{i:04x}", view)
                  for i, view in enumerate(views)]  # fmt: skip
        return Study(subject or f"1{number:07d}", f"5{number:07d}", images, labels, **kw)


def _candidates(tmp_path: Path, studies: list[Study], rule: Rule, **kw) -> pd.DataFrame:
    jpg, reports = write_mimic_cxr(tmp_path, studies, **kw)
    return five_class_candidates(jpg, reports, rule, Labeler.CHEXPERT, FRONTAL_VIEWS, Counts())


@pytest.fixture
def special_cases() -> tuple[dict[str, Study], list[dict]]:
    ids = Ids()
    cases = {
        "clean": ids.study(positive("Atelectasis", Edema=0.0, Cardiomegaly=0.0)),
        "blank others": ids.study(positive("Consolidation")),
        "uncertain other of five": ids.study(positive("Cardiomegaly", Edema=-1.0)),
        "uncertain observation": ids.study(positive("Edema", Lung_Opacity=-1.0)),
        "support device": ids.study(positive("Edema", Support_Devices=1.0)),
        "no finding set": ids.study(positive("Pleural Effusion", No_Finding=1.0)),
        "two of five": ids.study(positive("Atelectasis", Edema=1.0)),
        "uncertain only": ids.study({"Atelectasis": -1.0}),
        "positive outside five": ids.study(positive("Pneumonia")),
        "lateral only": ids.study(positive("Atelectasis"), views=("LATERAL",)),
        "decubitus": ids.study(positive("Atelectasis"), views=("LL",)),
        "AP and PA": ids.study(positive("Edema"), views=("AP", "PA", "LATERAL")),
        "AP only": ids.study(positive("Edema"), views=("AP",)),
        "no label row": ids.study(None),
        "no report file": ids.study(positive("Edema"), report=None),
        "no usable section": ids.study(positive("Edema"), report=" x\n INDICATION: cough.\n"),
        "impression only": ids.study(positive("Edema"), report=mimic_report(findings=None)),
        "addendum": ids.study(
            positive("Edema"), report=mimic_report(impression="Mild edema.", addendum="Paged.")
        ),
        "no headers": ids.study(
            positive("Edema"), report=" Portable chest.\n \n Mild edema, improved.\n"
        ),
        "duplicate label rows": ids.study(positive("Cardiomegaly")),
        "conflicting label rows": ids.study(positive("Cardiomegaly")),
        "missing image file": ids.study(positive("Edema")),
    }
    cases["missing image file"].images[0].on_disk = False
    extra = [
        {"subject_id": int(cases[name].subject), "study_id": int(cases[name].study), **labels}
        for name, labels in (
            ("duplicate label rows", positive("Cardiomegaly")),
            ("conflicting label rows", positive("Edema")),
        )
    ]
    return cases, extra


def _kept(frame: pd.DataFrame, cases: dict[str, Study]) -> set[str]:
    by_study = {study.study: name for name, study in cases.items()}
    return {by_study[study] for study in frame["study_id"]}


ALWAYS = {"clean", "blank others", "no finding set", "AP and PA", "AP only", "impression only",
          "addendum", "no headers", "duplicate label rows"}  # fmt: skip


def test_exactly_one_rule_and_the_image_filters(tmp_path: Path, special_cases) -> None:
    cases, extra = special_cases
    frame = _candidates(tmp_path, list(cases.values()), Rule.EXACTLY_ONE, extra_label_rows=extra)
    expected = ALWAYS | {"uncertain other of five", "uncertain observation", "support device"}
    assert _kept(frame, cases) == expected
    labels = dict(zip(frame["study_id"], frame["label"], strict=True))
    assert labels[cases["uncertain other of five"].study] == FIVE.index("Cardiomegaly")
    assert labels[cases["no finding set"].study] == FIVE.index("Pleural Effusion")
    both_views = frame[frame["study_id"] == cases["AP and PA"].study]
    assert list(both_views["view"]) == ["PA"]
    assert list(both_views["sample_id"]) == [cases["AP and PA"].images[1].dicom]


def test_strict_rule_excludes_uncertain_and_other_findings(tmp_path: Path, special_cases) -> None:
    cases, extra = special_cases
    frame = _candidates(tmp_path, list(cases.values()), Rule.STRICT, extra_label_rows=extra)
    assert _kept(frame, cases) == ALWAYS


def test_reports_hold_findings_and_impression_only(tmp_path: Path, special_cases) -> None:
    cases, _ = special_cases
    frame = _candidates(tmp_path, list(cases.values()), Rule.EXACTLY_ONE, reports_as="folder")
    reports = dict(zip(frame["study_id"], frame["report"], strict=True))
    assert (
        reports[cases["clean"].study] == "FINDINGS: Lungs are clear.\nIMPRESSION: No acute process."
    )
    assert reports[cases["impression only"].study] == "IMPRESSION: No acute process."
    assert reports[cases["addendum"].study] == "FINDINGS: Lungs are clear.\nIMPRESSION: Mild edema."
    assert reports[cases["no headers"].study] == "Mild edema, improved."
    path = frame.loc[frame["study_id"] == cases["clean"].study, "image_path"].item()
    study = cases["clean"]
    assert (
        path
        == f"files/p1{study.subject[1]}/p{study.subject}/s{study.study}/{study.images[0].dicom}.jpg"
    )


def _five_by_three(ids: Ids) -> list[Study]:
    """Three clean studies per class; one patient has studies in two classes."""
    studies = [ids.study(positive(name)) for name in FIVE for _ in range(3)]
    studies[1].subject = studies[4].subject  # Atelectasis and Cardiomegaly: the same patient
    return studies


def test_5x1200_draws_fixed_pools_per_class_without_straddling(tmp_path: Path) -> None:
    jpg, reports = write_mimic_cxr(tmp_path, _five_by_three(Ids()))
    out = tmp_path / "task"
    manifest = build_5x1200(jpg, reports, out, seed=3, per_class=2, eval_per_class=1)
    frame = manifest.frame
    assert len(frame) == 10
    assert frame.groupby("label").size().tolist() == [2] * 5
    assert (frame[frame["pool"] == "eval"].groupby("label").size() == 1).all()
    assert frame.groupby("patient_id")["pool"].nunique().max() == 1
    loaded = Manifest.load(out)
    assert loaded.info.builder["options"]["rule"] == "exactly-one"
    assert loaded.info.builder["counts"]["eligible but not drawn"] == 5
    assert Path(loaded.info.image_root) == jpg.resolve()
    again = build_5x1200(jpg, reports, tmp_path / "again", seed=3, per_class=2, eval_per_class=1)
    pd.testing.assert_frame_equal(again.frame, frame)
    assert set(frame.columns) >= {"sample_id", "image_path", "report", "pool", "study_id", "view"}


def test_5x1200_says_which_classes_are_short(tmp_path: Path) -> None:
    jpg, reports = write_mimic_cxr(tmp_path, _five_by_three(Ids()))
    with pytest.raises(
        RadsweepError, match=r"too few eligible images for 4 per class \(class 0: 3"
    ):
        build_5x1200(jpg, reports, tmp_path / "task", per_class=4, eval_per_class=1)
    assert not (tmp_path / "task" / "manifest.parquet").exists()


def _age_cohort(ids: Ids) -> tuple[list[Study], list[dict]]:
    studies = [
        ids.study({}, date=21530601),  # 50 at 2150 -> 53
        ids.study({}, date=21490601),  # over 89 at 2150 -> at least 89 in 2149
        ids.study({}, date=21500601),  # no patient record
        ids.study({}, date=21500601),  # 30
        ids.study({}, date=21520601),  # 74 at 2150 -> 76
        ids.study({}, views=("LATERAL",)),
    ]
    ages = [(50, 2150), (91, 2150), None, (30, 2150), (74, 2150), (60, 2150)]
    patients = [
        {"subject_id": int(study.subject), "gender": "F", "anchor_age": age[0],
         "anchor_year": age[1], "anchor_year_group": "2014 - 2016", "dod": ""}
        for study, age in zip(studies, ages, strict=True) if age is not None
    ]  # fmt: skip
    return studies, patients


def test_age_bins_with_over_89_patients(tmp_path: Path) -> None:
    studies, patients = _age_cohort(Ids())
    jpg, reports = write_mimic_cxr(tmp_path, studies)
    mimic_iv = write_mimic_iv(tmp_path, patients, [])
    manifest = build_age(jpg, reports, mimic_iv, tmp_path / "age")
    ages = {row.study_id: (row.age_years, row.label, row.age_over_89)
            for row in manifest.frame.itertuples()}  # fmt: skip
    assert ages == {
        studies[0].study: (53, 1, False),
        studies[1].study: (89, 4, True),
        studies[3].study: (30, 0, False),
        studies[4].study: (76, 4, False),
    }
    assert manifest.info.builder["counts"]["no MIMIC-IV patient record"] == 1
    assert manifest.task.classes == ("<40", "40-54", "55-64", "65-74", ">=75")


def test_age_edges_that_split_the_over_89_drop_them(tmp_path: Path) -> None:
    studies, patients = _age_cohort(Ids())
    jpg, reports = write_mimic_cxr(tmp_path, studies)
    mimic_iv = write_mimic_iv(tmp_path, patients, []) / "hosp"  # the hosp folder itself works too
    manifest = build_age(jpg, reports, mimic_iv, tmp_path / "age", edges=(40, 55, 65, 75, 95))
    assert studies[1].study not in set(manifest.frame["study_id"])
    assert manifest.info.builder["counts"]["over 89, bin unknown for these edges"] == 1
    assert manifest.task.classes[-2:] == ("75-94", ">=95")
    assert manifest.info.builder["options"]["age_bin_edges"] == [40, 55, 65, 75, 95]
    limited = build_age(jpg, reports, mimic_iv, tmp_path / "few", max_samples=2, seed=1)
    assert len(limited.frame) == 2


def _admission(subject: str, hadm: int, admit: str, disch: str, **kw) -> dict:
    return {"subject_id": int(subject), "hadm_id": hadm, "admittime": admit, "dischtime": disch,
            "deathtime": kw.get("death", ""), "admission_type": "URGENT",
            "admit_provider_id": "P00000", "admission_location": "EMERGENCY ROOM",
            "discharge_location": "HOME", "insurance": "Other", "language": "ENGLISH",
            "marital_status": "SINGLE", "race": "UNKNOWN", "edregtime": kw.get("ed", ""),
            "edouttime": "", "hospital_expire_flag": kw.get("expired", 0)}  # fmt: skip


def _discharge_cohort(tmp_path: Path) -> tuple[dict[str, Study], Path, Path, Path]:
    ids = Ids()
    a, b, c = "10000901", "10000902", "10000903"
    cases = {
        "within 72 h": ids.study({}, subject=a, date=21500101, time=120000.0),
        "in the ED window": ids.study({}, subject=a, date=21500101, time=73000.0),
        "before the ED window": ids.study({}, subject=a, date=21500101, time=50000.0),
        "long stay": ids.study({}, subject=a, date=21500202, time=93015.25),
        "overlapping stays": ids.study({}, subject=a, date=21500305, time=120000.0),
        "died": ids.study({}, subject=b, date=21500101, time=120000.0),
        "no admission": ids.study({}, subject=c, date=21500101, time=120000.0),
        "no study time": ids.study({}, subject=a, date=21500101, time=float("nan")),
    }
    admissions = [
        _admission(a, 20000001, "2150-01-01 10:00:00", "2150-01-03 10:00:00",
                   ed="2150-01-01 06:00:00"),
        _admission(a, 20000002, "2150-02-01 10:00:00", "2150-02-10 10:00:00"),
        _admission(a, 20000003, "2150-03-01 00:00:00", "2150-03-20 00:00:00"),
        _admission(a, 20000004, "2150-03-05 00:00:00", "2150-03-06 12:00:00"),
        _admission(b, 20000005, "2150-01-01 00:00:00", "2150-01-02 00:00:00",
                   death="2150-01-02 00:00:00", expired=1),
    ]  # fmt: skip
    jpg, reports = write_mimic_cxr(tmp_path, list(cases.values()))
    return cases, jpg, reports, write_mimic_iv(tmp_path, [], admissions)


def test_discharge_links_images_to_admissions(tmp_path: Path) -> None:
    cases, jpg, reports, mimic_iv = _discharge_cohort(tmp_path)
    manifest = build_discharge(jpg, reports, mimic_iv, tmp_path / "discharge")
    by_case = {name: study.study for name, study in cases.items()}
    rows = manifest.frame.set_index("study_id")
    linked = ("within 72 h", "in the ED window", "long stay", "overlapping stays")
    assert set(rows.index) == {by_case[name] for name in linked}
    assert rows.loc[by_case["within 72 h"], ["label", "hours_to_discharge"]].tolist() == [1, 46.0]
    ed = rows.loc[by_case["in the ED window"]]
    assert ed["label"] == 1 and ed["before_admission"] and ed["hours_to_discharge"] == 50.5
    long_stay = rows.loc[by_case["long stay"]]  # StudyTime 93015.25 is 09:30:15
    assert long_stay["label"] == 0 and long_stay["hours_to_discharge"] == pytest.approx(
        192.5, abs=0.01
    )
    overlap = rows.loc[by_case["overlapping stays"]]
    assert overlap["hadm_id"] == "20000004" and overlap["label"] == 1
    counts = manifest.info.builder["counts"]
    assert counts["outside any admission"] == 2 and counts["admission ended in death"] == 1
    assert counts["no study date-time"] == 1


def test_discharge_options_tolerance_and_deaths(tmp_path: Path) -> None:
    cases, jpg, reports, mimic_iv = _discharge_cohort(tmp_path)
    manifest = build_discharge(
        jpg, reports, mimic_iv, tmp_path / "d", tolerance_hours=6.0, deaths=Deaths.NEGATIVE
    )
    rows = manifest.frame.set_index("study_id")
    assert rows.loc[cases["before the ED window"].study, "label"] == 1
    assert rows.loc[cases["died"].study, "label"] == 0
    assert manifest.info.builder["options"]["deaths"] == "negative"


def test_mimic_iv_is_required_for_age(tmp_path: Path) -> None:
    jpg, reports = write_mimic_cxr(tmp_path, [Ids().study({})])
    with pytest.raises(RadsweepError, match="needs MIMIC-IV"):
        build_age(jpg, reports, None, tmp_path / "age")
    with pytest.raises(RadsweepError, match=r"missing .*patients\.csv\.gz"):
        build_age(jpg, reports, tmp_path, tmp_path / "age")


def test_label_values_outside_the_encoding_name_the_column(tmp_path: Path) -> None:
    ids = Ids()
    jpg, reports = write_mimic_cxr(tmp_path, [ids.study({"Edema": 2.0}), ids.study({})])
    with pytest.raises(RadsweepError, match=r"column Edema holds values other than .* rows 0\)"):
        build_5x1200(jpg, reports, tmp_path / "task")
