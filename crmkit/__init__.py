"""crmkit: CRM reporting in Jupyter notebooks: ingest, KPIs, models, HTML reports."""

__version__ = "0.1.0"
