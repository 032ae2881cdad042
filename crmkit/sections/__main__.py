"""python -m crmkit.sections [FOLDER]: write the report notebooks (default notebooks/)."""

import sys

from crmkit.sections.base import PROJECT_ROOT
from crmkit.sections.notebooks import write_notebooks

for path in write_notebooks(sys.argv[1] if len(sys.argv) > 1 else PROJECT_ROOT / "notebooks"):
    print(path)
