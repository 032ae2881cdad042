"""One exception family. The CLI prints these as a clear message and exits non-zero;
anything else is a bug and keeps its traceback."""


class CrmkitError(Exception):
    """Base class: a user-facing problem with a message that says what to fix."""


class ConfigError(CrmkitError):
    """Raised when a config file or option is missing, malformed or inconsistent."""


class SourceError(CrmkitError):
    """Raised when a source path, file, database or table cannot be read."""


class SchemaError(CrmkitError):
    """Raised when a source table lacks a required canonical column."""


class WarehouseError(CrmkitError):
    """Raised when the warehouse is missing or lacks a table a caller needs."""


class ParameterError(CrmkitError):
    """Raised when a report parameter is unknown or has a value of the wrong type or format."""


class RenderError(CrmkitError):
    """Raised when one or more reports failed to render."""


class EngineError(CrmkitError):
    """Raised when the configured engine cannot run here (Spark without pyspark or Java)."""
