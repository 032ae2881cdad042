"""Spark for ``engine: spark``: one SparkSession per process, and the file systems it reads.

    session(settings) -> SparkSession      started on first use, the same one after
    check_available()                      pyspark and Java are there, or EngineError
    list_folder / listing / remove / ...   folders and files, local or in a lake (s3a://,
                                           hdfs://, file://) through Spark's file systems

Spark is optional (``pip install crmkit[spark]``, and Java): nothing imports pyspark until
a config says ``engine: spark`` or a Spark warehouse is opened.

The session runs with the config's ``spark:`` settings (``master``, default ``local[*]``,
and any ``spark.*`` key), over these defaults: the Spark UI and console progress off,
timestamps in UTC (the warehouse stores naive timestamps), every scratch folder (Spark's
local dir, its SQL warehouse dir, Derby's home, the JVM's log settings) in a temporary
folder removed at exit, never in the working directory, and Spark's log at ERROR (its
warnings would land on a report's page). Spark's Python workers run this interpreter
(``PYSPARK_PYTHON``): ingest runs DuckDB in them (crmkit.ingest.spark), so on a cluster
every node needs crmkit's Python environment (``spark.pyspark.python`` names it there).
Nothing is downloaded at run time: ``spark.jars.packages`` is refused by the config.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from crmkit.config import URI, SparkSettings
from crmkit.exceptions import EngineError

# pyspark's Arrow-to-pandas conversion passes pandas 3's deprecated `copy` keyword on every
# result; the warning is about pyspark, not the caller, and would reach a report's stderr.
warnings.filterwarnings("ignore", message="The copy keyword is deprecated",
                        module=r"pyspark\.sql\.pandas\.types")

PYSPARK_PINS = ((3, 5), (4, 1))  # ibis 12.0.0's PySpark backend: pyspark >= 3.5, < 4.1
INSTALL_HINT = "pip install 'crmkit[spark]'"
JAVA_HINT = "apt-get install openjdk-17-jre-headless (or set JAVA_HOME to a Java 17 install)"
LOG_SETTINGS = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""

SCRATCH_PREFIX = "crmkit-spark-"  # + the process id: a dead process's folder can go
_LOCK = threading.Lock()
_SESSION = None
_MASTER: str | None = None


def check_available() -> None:
    """Raise EngineError, saying what to install, when pyspark or Java is missing."""
    if importlib.util.find_spec("pyspark") is None:
        raise EngineError(f"engine: spark needs the pyspark package, which is not installed: "
                          f"{INSTALL_HINT} (pyspark >= 3.5, < 4.1), or use engine: duckdb")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("pyspark")
    except PackageNotFoundError:
        found = None
    if found is not None:
        parts = tuple(int(p) for p in found.split(".")[:2] if p.isdigit())
        if not PYSPARK_PINS[0] <= parts < PYSPARK_PINS[1]:
            raise EngineError(f"engine: spark needs pyspark >= 3.5 and < 4.1 (what ibis 12 "
                              f"runs on); pyspark {found} is installed: {INSTALL_HINT}")
    if java() is None:
        raise EngineError(f"engine: spark needs Java, which was not found (no JAVA_HOME, no "
                          f"`java` on PATH): {JAVA_HINT}")


def java() -> str | None:
    """The java executable Spark will start: $JAVA_HOME/bin/java, else `java` on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        path = Path(home) / "bin" / "java"
        return str(path) if path.is_file() else None
    return shutil.which("java")


def session(settings: SparkSettings | None = None):
    """The process's SparkSession, started with ``settings`` on first use (a session
    already active in the process, e.g. a notebook's, is used as it is). Spark runs one
    context per process: a later call naming another master raises EngineError (one
    local master stands for another: local[2] and local[*] compute the same)."""
    global _SESSION, _MASTER
    settings = settings or SparkSettings()
    with _LOCK:
        if _SESSION is not None and not _stopped(_SESSION):
            if settings.master != _MASTER and not (settings.master.startswith("local")
                                                   and _MASTER.startswith("local")):
                raise EngineError(f"Spark already runs in this process with master {_MASTER}; "
                                  f"one process runs one Spark context: start another "
                                  f"process for master {settings.master}")
            return _SESSION
        check_available()
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.conf.set("spark.sql.session.timeZone", "UTC")
            _SESSION, _MASTER = active, active.sparkContext.master
            return active
        options = settings.options
        if "spark.pyspark.python" not in options:
            os.environ["PYSPARK_PYTHON"] = sys.executable
        _remove_stale_scratch()
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        log = scratch / "log4j2.properties"
        log.write_text(LOG_SETTINGS)
        java_options = (f"-Dderby.system.home={scratch / 'derby'} "
                        f"-Dlog4j2.configurationFile={log.as_uri()} "
                        f"-Djava.io.tmpdir={tempfile.gettempdir()}")
        conf = {
            "spark.app.name": "crmkit",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.session.timeZone": "UTC",
            # Results come back to pandas through Arrow (missing values stay missing).
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            # ... and never silently without it: its fallback turns NULL text into 'NaN'
            "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
            "spark.sql.warehouse.dir": (scratch / "spark-warehouse").as_uri(),
            "spark.local.dir": str(scratch / "local"),
        }
        if settings.master.startswith("local"):
            conf["spark.driver.host"] = "127.0.0.1"
            conf["spark.driver.bindAddress"] = "127.0.0.1"
            # Spark's 200 shuffle partitions suit a cluster; one machine's queries (a
            # report asks hundreds of small ones) run faster with a few per core.
            conf["spark.sql.shuffle.partitions"] = str(2 * (os.cpu_count() or 2))
        conf.update(options)
        # The scratch folder is this machine's: a cluster's executors keep their own settings.
        local = settings.master.startswith("local")
        for key in ("spark.driver.extraJavaOptions",
                    *(("spark.executor.extraJavaOptions",) if local else ())):
            conf[key] = f"{java_options} {options.get(key, '')}".strip()
        builder = SparkSession.builder.master(settings.master)
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # the JVM did not start: a wrong master, no memory ...
            shutil.rmtree(scratch, ignore_errors=True)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EngineError(f"Spark did not start (master {settings.master}): {first}") \
                from None
        spark.sparkContext.setLogLevel("ERROR")
        _SESSION, _MASTER = spark, settings.master
        atexit.register(_stop, spark, scratch)
        return spark


def _remove_stale_scratch() -> None:
    """Remove the scratch folders of processes that ended without their exit handlers (a
    notebook kernel is killed when a render is done with it)."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _stopped(spark) -> bool:
    context = spark.sparkContext
    return context._jsc is None  # pyspark clears it on stop()


def _stop(spark, scratch: Path) -> None:
    try:
        spark.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# -- file systems: a local path, or a URI through Hadoop's FileSystem in the JVM ----------

def is_uri(location: str) -> bool:
    return bool(URI.match(str(location)))


def _hadoop(location: str, settings: SparkSettings | None = None):
    """(FileSystem, Path) of the JVM for a URI."""
    spark = session(settings)
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path


def list_folder(location: str, settings: SparkSettings | None = None) -> list[str]:
    """The names of the entries (files and folders) of a folder, sorted."""
    if not is_uri(location):
        return sorted(p.name for p in Path(location).iterdir())
    fs, path = _hadoop(location, settings)
    if not fs.exists(path):
        from crmkit.exceptions import SourceError

        raise SourceError(f"source not found: {location}")
    return sorted(status.getPath().getName() for status in fs.listStatus(path))


def listing(location: str, settings: SparkSettings | None = None) -> list[tuple[str, int, int]]:
    """(path below ``location``, bytes, modified in ms) of every data file of a file or a
    folder of Parquet parts; files Spark skips (``_SUCCESS``, ``.crc``, ``_temporary``)
    are left out."""
    out = []
    if not is_uri(location):
        root = Path(location)
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            rel = p.name if p == root else str(p.relative_to(root))
            if not _hidden(rel):
                stat = p.stat()
                out.append((rel, stat.st_size, int(stat.st_mtime * 1000)))
        return out
    fs, path = _hadoop(location, settings)
    if not fs.exists(path):
        from crmkit.exceptions import SourceError

        raise SourceError(f"file not found: {location}")
    files = fs.listFiles(path, True)
    root = fs.getFileStatus(path).getPath().toString().rstrip("/")
    while files.hasNext():
        status = files.next()
        full = status.getPath().toString()
        rel = full[len(root):].lstrip("/") or status.getPath().getName()
        if not _hidden(rel):
            out.append((rel, status.getLen(), status.getModificationTime()))
    return sorted(out)


def _hidden(rel: str) -> bool:
    return any(part.startswith(("_", ".")) for part in rel.split("/")) or rel.endswith(".crc")


def listing_digest(entries: list[tuple[str, int, int]]) -> str:
    """What identifies a file or folder without reading it: its files' names, sizes and
    modification times (reading a lake to hash it would cost as much as an ingest)."""
    h = hashlib.sha256()
    for rel, size, modified in entries:
        h.update(f"{rel}\0{size}\0{modified}\n".encode())
    return h.hexdigest()


def exists(location: str, settings: SparkSettings | None = None) -> bool:
    if not is_uri(location):
        return Path(location).exists()
    fs, path = _hadoop(location, settings)
    return bool(fs.exists(path))


def remove(location: str, settings: SparkSettings | None = None) -> None:
    """Remove a file or folder (and what is in it); no error when it is not there."""
    if not is_uri(location):
        shutil.rmtree(location, ignore_errors=True)
        return
    fs, path = _hadoop(location, settings)
    if fs.exists(path):
        fs.delete(path, True)


def rename(source: str, target: str, settings: SparkSettings | None = None) -> None:
    """Move a folder to ``target`` (which must not exist)."""
    if not is_uri(source):
        os.replace(source, target)
        return
    fs, path = _hadoop(source, settings)
    jvm = session(settings).sparkContext._jvm
    if not fs.rename(path, jvm.org.apache.hadoop.fs.Path(target)):
        raise EngineError(f"could not move {source} to {target}")
