"""Run the ``domo-datasets`` command line: ``python -m domo_datasets ...``."""

from __future__ import annotations

import sys

from domo_datasets.cli import main

if __name__ == "__main__":
    sys.exit(main())
