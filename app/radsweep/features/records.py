"""The cache's JSON records: spec.json (started), shard commits, metadata.json (complete).

Pydantic models, so a damaged or foreign file fails validation instead of being half read.
"""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from radsweep.features.keys import CacheSpec


class Shard(BaseModel):
    """Samples ``start:stop`` of the manifest: the unit of writing and resuming."""

    model_config = ConfigDict(frozen=True)

    index: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


class ShardPlan(BaseModel):
    """How the samples are cut into shards; fixed by the first run so resumes line up."""

    model_config = ConfigDict(frozen=True)

    samples: int = Field(ge=1)
    shard_size: int = Field(ge=1)

    def shards(self) -> list[Shard]:
        starts = range(0, self.samples, self.shard_size)
        return [
            Shard(index=i, start=start, stop=min(start + self.shard_size, self.samples))
            for i, start in enumerate(starts)
        ]


class ArrayInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    shape: tuple[int, ...]
    dtype: str
    sample_axis: int


class ShardRecord(BaseModel):
    """The commit record of one shard: its arrays' shapes and checksums, and its exclusions."""

    model_config = ConfigDict(frozen=True)

    shard: Shard
    arrays: dict[str, ArrayInfo]
    sha256: dict[str, str]
    excluded: dict[str, str] = {}  # sample_id -> reason


class CacheRecord(BaseModel):
    """spec.json: written when extraction starts, so ``ls`` and resumes know what is coming."""

    model_config = ConfigDict(frozen=True)

    key: str
    spec: CacheSpec
    plan: ShardPlan
    task: str
    command: str | None = None
    image_root: str | None = None  # provenance: where the fingerprinted images were read


class CacheMetadata(BaseModel):
    """metadata.json of a complete cache."""

    model_config = ConfigDict(frozen=True)

    key: str
    spec: CacheSpec
    plan: ShardPlan
    task: str
    command: str | None = None
    image_root: str | None = None
    arrays: dict[str, ArrayInfo]
    shards: list[ShardRecord]
    excluded: dict[str, str]
    sample_ids_sha256: str
    extraction: dict[str, Any] = {}
