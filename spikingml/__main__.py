"""Run the command line as ``python -m spikingml`` (see :mod:`spikingml.cli`)."""

import sys

from spikingml.cli import main

if __name__ == "__main__":
    sys.exit(main())
