"""``radsweep.predict``: a trained run's heads, reloaded from the store (or a copy of their
folder), score its own test images as the run scored them."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from radsweep.errors import HeadError
from radsweep.features import load_image_features
from radsweep.predict import HeadSource, predict
from radsweep.results.store import default_store_path
from radsweep.runs.config import RunConfig
from radsweep.runs.execute import prepare, run_configuration, training_inputs
from radsweep.runs.heads import CARD_FILE, heads_folder
from radsweep.runs.outcome import RunOutcome
from radsweep.settings import Settings
from radsweep.tasks.synthetic import SynthBenchmark

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def trained(
    small_benchmark: SynthBenchmark, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, RunConfig, RunOutcome]:
    """One image-only run of the binary synthetic task on 8x8 pixel patches, stored."""
    torch.set_flush_denormal(True)
    home = tmp_path_factory.mktemp("predict-home")
    settings = Settings(home=home, data_dir=small_benchmark.directory.parent)
    config = RunConfig(
        task="synth-prognostic",
        backbone="pixel-patches",
        fraction=0.5,
        seeds=SEEDS,
        epochs=4,
        lr=1e-3,
    )
    outcome = run_configuration(config, settings, device="cpu")
    assert outcome.result is not None
    return settings, config, outcome


@pytest.fixture
def settings(trained: tuple[Settings, RunConfig, RunOutcome]) -> Settings:
    return trained[0]


def test_the_store_keeps_a_self_describing_card_beside_the_weights(
    trained: tuple[Settings, RunConfig, RunOutcome],
) -> None:
    settings, _, outcome = trained
    card = json.loads(
        (heads_folder(default_store_path(settings), outcome.key) / CARD_FILE).read_text()
    )
    assert card["run_key"] == outcome.key and card["head"] == "attention"
    assert card["backbone"] == "pixel-patches" and card["method"] == "image"
    assert card["classes"] == ["good outcome", "poor outcome"]
    assert card["seeds"] == list(SEEDS) and len(card["final_auc"]) == len(SEEDS)
    assert card["cache_keys"] == list(outcome.cache_keys)
    assert card["feature_dim"] > 0 and card["tokens"] > 0
    assert card["normalisation"].startswith("layernorm")
    assert RunConfig.from_stored(card["config"]) == outcome.config
    assert card["image_cache"]["encoder"] == "pixel-patches"


def test_a_stored_run_scores_its_own_test_rows_as_the_run_did(
    trained: tuple[Settings, RunConfig, RunOutcome], tmp_path: Path
) -> None:
    settings, _, outcome = trained
    out = tmp_path / "p.csv"
    done = predict(HeadSource(run=outcome.key[:10]), settings, out, task="synth-prognostic")
    table = pd.read_csv(out, dtype={"sample_id": str})
    assert list(table.columns) == [
        "sample_id",
        "image_path",
        *(f"poor outcome_seed{seed}" for seed in SEEDS),
        "poor outcome_mean",
    ]
    assert len(table) == len(done.table) == 400
    columns = [f"poor outcome_seed{seed}" for seed in SEEDS]
    assert np.allclose(table["poor outcome_mean"], table[columns].mean(axis=1))

    prepared = prepare(outcome.config, settings, device="cpu")
    _, rows = training_inputs(prepared)
    by_id = table.set_index("sample_id")
    sample_ids = prepared.image.sample_ids if prepared.image is not None else []
    result = outcome.result
    assert result is not None
    for index, split in enumerate(rows.splits):
        ids = [sample_ids[row] for row in split.scored]
        scores = by_id.loc[ids, f"poor outcome_seed{split.seed}"].to_numpy()
        labels = rows.labels.numpy()[split.scored]
        assert roc_auc_score(labels, scores) == pytest.approx(
            float(result.model.final_auc[index]), abs=1e-4
        )
    # and row for row, the run's own (in-memory) model on the same rows
    assert prepared.image is not None
    centre = torch.from_numpy(np.asarray(prepared.image.tokens[:1]))
    own = result.predictor.probabilities(image=centre)  # type: ignore[union-attr]
    ours = by_id.loc[list(sample_ids), columns].to_numpy().T
    assert np.allclose(own[:, :, 1], ours, atol=1e-5)


def test_a_copied_heads_folder_scores_a_list_of_images_in_the_order_given(
    trained: tuple[Settings, RunConfig, RunOutcome], tmp_path: Path
) -> None:
    settings, _, outcome = trained
    copy = tmp_path / "downloaded"
    shutil.copytree(heads_folder(default_store_path(settings), outcome.key), copy)
    whole = predict(HeadSource(folder=copy), settings, tmp_path / "a.csv", task="synth-prognostic")
    chosen = [Path(path) for path in whole.table["image_path"].iloc[[7, 3, 150]]]
    listed = predict(HeadSource(folder=copy), settings, tmp_path / "b.csv", images=chosen)
    table = pd.read_csv(tmp_path / "b.csv")
    assert list(table["image_path"]) == [str(path) for path in chosen]
    expected = whole.table.iloc[[7, 3, 150]].drop(columns="sample_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(listed.table, expected, check_exact=False, atol=1e-5)


def _edited_card(settings: Settings, key: str, tmp_path: Path, **changes: object) -> Path:
    copy = tmp_path / "edited"
    shutil.copytree(heads_folder(default_store_path(settings), key), copy)
    card = json.loads((copy / CARD_FILE).read_text())
    for name, value in changes.items():
        if name == "cache_weights":
            card["image_cache"]["weights"] = value
        else:
            card[name] = value
    (copy / CARD_FILE).write_text(json.dumps(card))
    return copy


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cache_weights": "someone-else@v2"}, "trained on pixel-patches features with weights"),
        ({"feature_dim": 7}, "does not fit head attention of width 7"),
        ({"tokens": 3}, "features of shape 16x64 do not fit the head"),
        ({"method": "teacher"}, "reads reports"),
    ],
)
def test_heads_that_do_not_fit_the_features_are_refused_and_nothing_is_written(
    trained: tuple[Settings, RunConfig, RunOutcome],
    tmp_path: Path,
    changes: dict,
    message: str,
) -> None:
    settings, _, outcome = trained
    folder = _edited_card(settings, outcome.key, tmp_path, **changes)
    out = tmp_path / "never.csv"
    with pytest.raises(HeadError, match=message) as raised:
        predict(HeadSource(folder=folder), settings, out, task="synth-prognostic")
    assert "\n" not in raised.value.one_line()
    assert not out.exists() and not list(tmp_path.glob("*.csv*"))


def test_an_unknown_or_ambiguous_run_key_is_one_line(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    with pytest.raises(HeadError, match=r"no run .* key starting 'zzz'"):
        predict(HeadSource(run="zzz"), settings, out, task="synth-prognostic")
    other = RunConfig(
        task="synth-prognostic", backbone="pixel-patches", fraction=0.5, seeds=(0,), epochs=1
    )
    run_configuration(other, settings, device="cpu")  # two runs: an empty prefix names both
    with pytest.raises(HeadError, match=r"2 runs .* key starting ''"):
        predict(HeadSource(run=""), settings, out, task="synth-prognostic")
    assert not out.exists()


def test_a_cache_the_run_read_is_reused_not_extracted_again(
    trained: tuple[Settings, RunConfig, RunOutcome], tmp_path: Path
) -> None:
    settings, _, outcome = trained
    before = sorted(path.name for path in (settings.cache / "features").iterdir())
    predict(HeadSource(run=outcome.key), settings, tmp_path / "p.csv", task="synth-prognostic")
    after = sorted(path.name for path in (settings.cache / "features").iterdir())
    assert before == after
    [key] = outcome.cache_keys
    assert load_image_features(settings.cache, key).sample_ids.shape == (400,)
