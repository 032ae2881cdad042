"""Write the small report notebooks the report tests and bench/bench_render.py execute.

    .venv/bin/python tests/report/make_notebooks.py

The .ipynb files are committed; edit this script and run it again to change them.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

out = Path(__file__).parent / "notebooks"

def nb(cells, title=None):
    n = new_notebook(cells=cells)
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    n.metadata["language_info"] = {"name": "python"}
    if title:
        n.metadata["crmkit"] = {"title": title}
    # stable ids so the files diff cleanly
    for i, c in enumerate(n.cells):
        c["id"] = f"cell-{i}"
    return n

def params(src):
    c = new_code_cell(src)
    c.metadata["tags"] = ["parameters"]
    return c

overview = nb([
    new_markdown_cell("# Overview\n\nA small report that exercises every kind of output."),
    params('start: str = "2025-01-01"  # inclusive\n'
           'end: str = "2025-03-31"  # inclusive\n'
           'region: str = ""  # filter: one region, empty for all\n'
           'top_n: int = 3  # rows in the top table\n'
           'show_detail: bool = True  # include the detail table\n'
           'segments: list = ["smb", "enterprise"]  # segments to include\n'
           'db_url: str = ""  # database URL; may carry a password'),
    new_code_cell('import sys\nimport warnings\n\nimport matplotlib.pyplot as plt\nimport pandas as pd\n\nfrom crmkit.report.markup import markdown'),
    new_markdown_cell("## Revenue by month\n\nMonthly revenue in the period."),
    new_code_cell('revenue = pd.DataFrame({"month": ["Jan", "Feb", "Mar"], "revenue": [120.0, 135.5, 150.25]})\n'
                  'fig, ax = plt.subplots(figsize=(4, 2.5))\n'
                  'ax.bar(revenue["month"], revenue["revenue"])\n'
                  'ax.set_ylabel("revenue")\n'
                  'plt.show()'),
    new_markdown_cell("## Top customers\n\n### Table"),
    new_code_cell('customers = pd.DataFrame({\n'
                  '    "customer": ["Ann & Co", "<script>alert(1)</script>", "Bob"],\n'
                  '    "revenue": [300.0, 200.0, 100.0],\n'
                  '})\n'
                  'customers.head(top_n)'),
    new_code_cell('warnings.warn("CRMKIT-WARNING-TEXT should never reach the report")\n'
                  'print("CRMKIT-STDERR-TEXT should never reach the report", file=sys.stderr)\n'
                  'print(f"Period {start} to {end}; region {region or \'all\'}")'),
    new_markdown_cell("### Narrative"),
    new_code_cell('markdown("The biggest customer is **{name}** with {amount} in revenue.",\n'
                  '         name=customers.iloc[1]["customer"], amount="$200")'),
    new_code_cell('print("database URL length:", len(db_url))\nprint("database URL:", db_url)'),
], title=None)

minimal = nb([
    params('region: str = "all"  # filter\nlabel: str = "x"'),
    new_markdown_cell("## Environment"),
    new_code_cell('import sys\nprint("KERNEL-EXECUTABLE=" + sys.executable)\nprint("REGION=" + region)'),
    new_code_cell('if region == "fail":\n    raise RuntimeError("asked to fail")'),
], title="Minimal report")

failing = nb([
    params('start: str = "2025-01-01"  # inclusive\ndb_password: str = ""  # secret'),
    new_markdown_cell("## Before the failure"),
    new_code_cell('print("this cell works")'),
    new_code_cell('raise ValueError(f"boom: could not log in with {db_password}")'),
    new_code_cell('print("never reached")'),
], title="Failing report")

for name, n in [("overview", overview), ("minimal", minimal), ("failing", failing)]:
    nbformat.validate(n)
    nbformat.write(n, out / f"{name}.ipynb")
