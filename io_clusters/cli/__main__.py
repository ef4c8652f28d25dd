"""``python -m io_clusters.cli``: the ``io-clusters`` command."""

import sys

from . import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
