"""The screen's fractions are chosen by training-set size, and too-small arms are refused."""

from pathlib import Path

import pytest

from radsweep.screen.plan import ScreenOptions, choose_fractions
from radsweep.tasks.manifest import Manifest
from radsweep.tasks.splits import make_split
from tests.screen.fixtures import user_task


def _manifest(tmp_path: Path, samples: int) -> Manifest:
    return Manifest.load(user_task(tmp_path, "mine", samples=samples), check_images=False)


def _options(**values: object) -> ScreenOptions:
    return ScreenOptions.model_validate({"task": "mine", "seeds": (0, 1, 2), **values})


def test_the_tables_too_small_fractions_give_way_to_the_smallest_that_is_big_enough(
    tmp_path: Path,
) -> None:
    manifest = _manifest(tmp_path, 240)  # the task lists fraction 0.5 only
    options = _options(min_images=30, min_per_class=5)
    chosen = choose_fractions(options, manifest)
    assert len(chosen.chosen) == 2 and chosen.cannot_run == ()
    smallest = chosen.chosen[0]
    for seed in options.seeds:  # every seed trains on enough images of every class
        split = make_split(manifest, seed)
        subset = split.training(smallest)
        assert len(subset) >= 30 and min(split.class_counts(subset)) >= 5
    assert smallest < 0.5 and chosen.chosen[1] == pytest.approx(min(2 * smallest, 1.0))


def test_a_task_too_small_for_any_arm_says_so_with_its_numbers(tmp_path: Path) -> None:
    chosen = choose_fractions(_options(), _manifest(tmp_path, 60))
    assert chosen.chosen == ()
    (line,) = chosen.cannot_run
    assert line.startswith("cannot run the arms at any fraction (the full pool): ")
    assert "below the minimum of 50 images and 10 per class; add images to the task" in line
    assert [size.fraction for size in chosen.skipped] == [0.5]


def test_fractions_asked_for_are_refused_one_line_each_when_too_small(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, 400)
    chosen = choose_fractions(_options(fractions=(0.05, 0.6)), manifest)
    assert chosen.chosen == (0.6,)
    (line,) = chosen.cannot_run
    images = min(len(make_split(manifest, seed).training(0.05)) for seed in (0, 1, 2))
    assert line.startswith(f"cannot run the arms at fraction 0.05: {images} training images")
    assert "; use fraction 0." in line and "or more" in line


def test_the_light_backbone_brings_its_text_encoder() -> None:
    assert _options().text_encoder == "minilm-sentences"
    assert _options(backbone="c2l").text_encoder == "biovil-t"
    assert _options(backbone="c2l", text_encoder="minilm").text_encoder == "minilm"
