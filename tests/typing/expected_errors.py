"""Mistakes mypy --strict must catch. Each line whose comment starts with ``E:`` must draw
an error whose message contains the comment's text; no other line may draw one."""

from __future__ import annotations

import domo_datasets as dd
from domo_datasets import UploadResult


def mistakes(client: dd.Client, ds: dd.Dataset) -> None:
    client.create_dataset("a", 42)  # E: Argument 2 to "create_dataset"
    client.create_dataset("b", {"region": 1})  # E: Dict entry 0 has incompatible type
    result: UploadResult = ds.upload({"a": [1]})
    result["row_count"]  # E: "UploadResult" has no key "row_count"
    ds.upload({"a": [1]}, mode="merge")  # E: Argument "mode" to "upload"
    ds.query(42)  # E: Argument 1 to "query"
