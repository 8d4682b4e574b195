"""Fixtures on top of the package's own pytest plugin (``domo_emulator``, ``domo_client``).

The plugin comes from the ``pytest11`` entry point of the installed package; nothing here
replaces or mocks it.
"""

from __future__ import annotations

import domo_datasets as dd
import pytest
from domo_datasets.testing import LocalDomo
from support import ALL_TYPES_DOMO

# pytester runs a user's test file in a subprocess to show the plugin works out of the box.
pytest_plugins = ("pytester",)


@pytest.fixture
def all_types_ds(domo_client: dd.Client, domo_emulator: LocalDomo) -> dd.Dataset:
    """An empty dataset with one column of every Domo type; the request log is cleared."""
    ds = domo_client.create_dataset("all types", ALL_TYPES_DOMO)
    domo_emulator.clear_requests()
    return ds
