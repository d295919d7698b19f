"""The pretrained table: the one place an encoder's name, source, preprocessing and display name
live, read by the registry, the cache keys and the reports."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from radsweep.encoders import (
    build_image_encoder,
    build_text_encoder,
    encoder_variants,
    list_encoders,
)
from radsweep.encoders.preprocess import Preprocessing
from radsweep.encoders.pretrained import TABLE, display_name, entries, pretrained
from radsweep.encoders.registry import table_info
from radsweep.errors import RadsweepError
from radsweep.features.keys import ImageCacheSpec, TextCacheSpec, cache_key
from radsweep.features.views import ViewPlan
from radsweep.reports.style import backbone_label, backbone_order, text_label

PACKAGE = Path(__file__).parents[2] / "app" / "radsweep"

# Cache keys of the tiny encoders (fixed image list, views and source): a finished cache must
# stay findable, so these may only change with a deliberate cache-format change (CACHE_FORMAT).
TINY_KEYS = {
    ("rad-dino", None): "rad-dino-image-40e8345a98c3a0efefdd",
    ("c2l", None): "c2l-image-d1a0b2a822a95bf5bdaa",
    ("medical-mae", "paper"): "medical-mae-image-ccfbc8c92e8eb78744d7",
    ("medical-mae", "repo"): "medical-mae-image-48d541c90b61705c02f9",
    ("mrm", None): "mrm-image-dfe76c5eca47fe25843c",
    ("biovil-t", None): "biovil-t-image-9f75b9bcbefe1adc147a",
    ("gloria", "paper"): "gloria-image-500a0b2f48bfb86d889d",
    ("gloria", "paper-299"): "gloria-image-618643552e84bcf9e99a",
    ("gloria", "repo"): "gloria-image-e5945324e633cb4dfd80",
    ("gloria", "repo-224"): "gloria-image-8f5929fc5399c542295b",
    ("biomedclip", None): "biomedclip-image-49788c2991596a3834d0",
    ("pixel-patches", None): "pixel-patches-image-faf63c318d9bf2c8c946",
}
TEXT_KEYS = {
    "biovil-t": "biovil-t-text-5ea7b7e444e165086abe",
    "cxr-bert-general": "cxr-bert-general-text-49b3d156e9658ca548bf",
    "bio-clinicalbert": "bio-clinicalbert-text-3b5879bc23a67522720e",
    "minilm": "minilm-text-c144cc4448f83a6e7926",
    # 64 tokens per sentence by default (the catalogue's, the demo's) since the row carries it
    "minilm-sentences": "minilm-sentences-text-57aaa94d9e3eb9355eb3",
}
# The full-size pipelines (variant, in-model upsample, every preprocessing number), hashed.
FULL_PIPELINES = {
    ("rad-dino", None): "fbd51a744d450023",
    ("c2l", None): "a3317d476093e0bf",
    ("medical-mae", "paper"): "4b4b9e21791182dd",
    ("medical-mae", "repo"): "12bbba5e1f02fceb",
    ("mrm", None): "49abb42ea4747e8c",
    ("biovil-t", None): "4e8a44dbc251cf6b",
    ("gloria", "paper"): "4b4b9e21791182dd",
    ("gloria", "paper-299"): "1a0b0c7f6b03efc6",
    ("gloria", "repo"): "9074dfa132863f76",
    ("gloria", "repo-224"): "874f7dd33e8a66b3",
    ("biomedclip", None): "05c32116c5d305af",
    ("pixel-patches", None): "3b444f436c7a9d9a",
}


@pytest.mark.parametrize(("name", "variant"), list(TINY_KEYS))
def test_image_cache_keys_are_unchanged(name: str, variant: str | None) -> None:
    encoder = build_image_encoder(name, tiny=True, variant=variant)
    spec = ImageCacheSpec(
        encoder=encoder.info.name,
        weights=encoder.weights_identity,
        preprocessing=json.loads(json.dumps(encoder.preprocessing_id())),
        views=ViewPlan(),
        precision="fp32",
        images="i",
        source="s",
        content="c",
    )
    assert cache_key(spec) == TINY_KEYS[(name, variant)]


@pytest.mark.parametrize("name", list(TEXT_KEYS))
def test_text_cache_keys_are_unchanged(name: str) -> None:
    encoder = build_text_encoder(name, tiny=True)
    spec = TextCacheSpec(
        encoder=encoder.info.name,
        weights=encoder.weights_identity,
        max_length=encoder.max_length,
        precision="fp32",
        reports="r",
    )
    assert cache_key(spec) == TEXT_KEYS[name]


def test_full_size_pipelines_are_unchanged() -> None:
    found = {}
    for entry in entries("image"):
        for variant, pipeline in entry.pipelines.items():
            identity = Preprocessing(**pipeline.preprocessing).identity()
            record = {"variant": variant, "upsample": pipeline.upsample, **identity}
            digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
            found[(entry.name, variant)] = digest[:16]
    assert found == FULL_PIPELINES


def test_the_registry_is_the_table() -> None:
    registered = {(info.kind.value, info.name): info for info in list_encoders()}
    assert set(registered) == {(entry.kind, entry.name) for entry in TABLE}
    for entry in TABLE:
        assert registered[(entry.kind, entry.name)] == table_info(entry)
        if entry.kind == "image":
            assert encoder_variants(entry.name) == entry.variants


def test_hub_ids_are_written_once() -> None:
    """A hub id appears in the table and nowhere else in the package."""
    sources = {
        path: path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
        if path.name != "pretrained.py"
    }
    hub_ids = {entry.hub_id for entry in TABLE if entry.hub_id}
    assert len(hub_ids) == 5
    for hub_id in hub_ids:
        assert [path.name for path, text in sources.items() if hub_id in text] == []


def test_sources_and_citations() -> None:
    assert pretrained("rad-dino").source == "hf:microsoft/rad-dino"
    assert pretrained("rad-dino").hub_id == "microsoft/rad-dino"
    assert pretrained("c2l").hub_id is None
    assert pretrained("c2l").source and pretrained("c2l").source.startswith("https://")
    assert pretrained("cxr-bert-general").kind == "text"  # a text-only name needs no kind
    assert pretrained("biovil-t").kind == "image"
    assert pretrained("biovil-t", "text").display == "BioViL-T BERT"
    study = [entry for entry in TABLE if entry.source is not None]
    assert all(entry.citation for entry in study)
    with pytest.raises(RadsweepError, match="unknown encoder 'dino'"):
        pretrained("dino")


def test_reports_name_encoders_from_the_table() -> None:
    assert backbone_label("medical-mae", "repo") == "Medical MAE (repo)"
    assert text_label("biovil-t") == "BioViL-T BERT"
    assert backbone_label("my-backbone") == "my-backbone"
    assert backbone_order()[:3] == ("RAD-DINO", "Medical MAE", "MRM")
    assert display_name("minilm", "text") == "MiniLM"


def test_reading_display_names_loads_no_model_library() -> None:
    code = "import sys, radsweep.reports.style; assert 'torch' not in sys.modules, 'torch imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_the_encoder_docs_list_every_row() -> None:
    page = (Path(__file__).parents[2] / "docs" / "encoders.md").read_text(encoding="utf-8")
    image, text = page.split("## Text encoders")
    for entry in TABLE:
        section = image if entry.kind == "image" else text
        row = next(line for line in section.splitlines() if line.startswith(f"| `{entry.name}` |"))
        assert f"| {entry.display} | {entry.architecture} |" in row, entry.name
        assert (entry.hub_id or entry.source or "none") in row, entry.name
        if entry.citation:
            assert entry.citation in page, entry.name
