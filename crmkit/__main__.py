import sys

from crmkit.cli import main

sys.exit(main())
