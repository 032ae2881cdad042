"""python -m crmkit.dashboard [--port N] [--notebooks DIR] [--no-browser]"""

import sys

from crmkit.cli import main

sys.exit(main(["dashboard", *sys.argv[1:]]))
