"""Render report notebooks to HTML: execute with papermill in-process, several at once.

    render(["churn"], params={"start": "2025-01-01"}, data_checksum=checksum)

For each report and parameter set the path runs straight through: check parameters ->
skip when cached -> execute (crmkit.report.execute) -> export (crmkit.report.export) ->
write HTML and the executed notebook atomically -> record in the manifest -> index page.

Decisions, in one place:

- Parameters are checked for every report before anything runs or is written; a bad one
  raises ParameterError and leaves the report folder as it was. Then the folder is
  checked: one that is a file or cannot be written is a ConfigError before any run.
- The data: a caller that chooses it (the CLI puts the ingested ``warehouse`` in
  ``context``) names it in ``source``, which the header shows for the reports that
  take it. A parameter naming other data (``source``, ``db_url`` ...) beside that is a
  ParameterError: the header must name the data the numbers come from. Without data in
  ``context`` a report reads the data its own parameters name, and the header says so.
- A parameter given to a batch of reports applies to the reports that declare it; one no
  selected report declares is an error. ``RenderEvent.ignored`` names the parameters a
  report did not take.
- ``params`` as a list of dicts renders each report once per distinct set; the outputs
  are named ``<report>--<name>=<value>.html`` after the parameters that vary.
- Outputs: ``<out>/<name>.html``; the executed notebook (outputs kept, stderr included,
  secrets redacted) at ``<out>/_executed/<name>.ipynb``; a failed run's at
  ``<out>/_failed/<name>.ipynb``, and the previous HTML stays in place.
- Kernels run in the notebook's folder, like JupyterLab; give data paths absolute.
- A report is skipped when its notebook bytes, parameters, data checksum (from the
  caller), source, crmkit version and template are those of the HTML on disk. Nothing
  heavy (papermill, nbconvert, nbformat) is imported unless something must run.
- Execution is threaded: each thread drives one kernel (a separate process that does the
  work), so the GIL is not the limit; papermill is imported once for the batch.
- Language (crmkit.report.language): each report's header, footer and table of contents
  are in the report's ``language`` (or ``lang``) parameter, its title the ``# Title``
  its own first text starts with (shown by ``report.text`` in that language); the
  errors, progress and index page in the render's (the first language given, English by
  default). The manifest keeps English texts and the dates, so any render's index reads it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import hashlib
import json
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from crmkit import __version__, i18n
from crmkit.exceptions import ConfigError, ParameterError, RenderError
from crmkit.i18n import tr
from crmkit.report.files import check_writable_folder, locked, write_atomic
from crmkit.report.index import load_manifest, save_manifest, write_index
from crmkit.report.language import (
    LANGUAGE_PARAMETERS,
    facts_list,
    html_lang,
    language_of,
    period_text,
    render_language,
    time_text,
)
from crmkit.report.parameters import (
    ParameterSpec,
    cell_source,
    is_secret,
    read_parameters,
    redact,
    secret_texts,
    validate,
)

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = Path(__file__).parent / "templates"
EXECUTED_DIR = "_executed"
FAILED_DIR = "_failed"
LOCK_FILE = ".render.lock"
PERIOD_NAMES = ("start", "end")
SOURCE_NAMES = ("warehouse", "source", "data_source", "config", "database", "db_url", "dsn")
NOT_FILTERS = set(SOURCE_NAMES) | {"language", "lang", "title", "top_n", "currency"}


def default_notebooks_dir() -> Path:
    """The repository's ``notebooks/`` next to the package, else ``./notebooks``."""
    beside_package = PACKAGE_ROOT / "notebooks"
    return beside_package if beside_package.is_dir() else Path.cwd() / "notebooks"


def available_reports(notebooks_dir: str | Path | None = None) -> list[str]:
    """Report names: the ``*.ipynb`` stems in ``notebooks_dir`` (not ``_``/``.``-prefixed)."""
    folder = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    return sorted(p.stem for p in folder.glob("*.ipynb") if not p.name.startswith(("_", ".")))


@dataclass(frozen=True)
class RenderEvent:
    """A progress report: ``kind`` is started, finished, failed or cached.

    ``position`` is the output's place in the batch (1-based) of ``total``; ``done`` is how
    many outputs are finished (rendered, cached or failed) including this one.
    """

    kind: str
    name: str
    report: str
    position: int
    total: int
    done: int = 0
    elapsed: float | None = None
    html: Path | None = None
    message: str = ""
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderFailure:
    """One output that did not render, and where to look."""

    name: str
    report: str
    error: str  # "ValueError: boom"
    cell: int | None = None  # 1-based position of the failing cell in the report notebook
    cell_source: str = ""  # its first line
    notebook: Path | None = None  # the executed notebook, kept

    @property
    def detail(self) -> str:
        """The error, where it happened and the notebook kept, in the active language."""
        if self.cell and self.notebook:
            text = tr("{error} in cell {cell} ({source}); executed notebook: {notebook}")
        elif self.cell:
            text = tr("{error} in cell {cell} ({source})")
        elif self.notebook:
            text = tr("{error}; executed notebook: {notebook}")
        else:
            return self.error
        return text.format(error=self.error, cell=self.cell, source=repr(self.cell_source),
                           notebook=self.notebook)

    def __str__(self) -> str:
        return f"{self.name}: {self.detail}"


@dataclass(frozen=True)
class RenderResult:
    """One output that rendered (or was already up to date)."""

    name: str
    report: str
    html: Path
    cached: bool
    elapsed: float


@dataclass
class _Job:
    name: str
    report: str
    notebook: Path
    specs: dict[str, ParameterSpec]
    given: dict[str, Any]  # typed, validated
    ignored: tuple[str, ...]
    notebook_sha: str
    nb_json: dict
    values: dict[str, Any] = field(default_factory=dict)  # injected as literals
    secrets: dict[str, str] = field(default_factory=dict)  # injected through the environment
    shown: dict[str, Any] = field(default_factory=dict)  # given, redacted, as text
    secret_texts: list[str] = field(default_factory=list)
    cache_key: str = ""
    position: int = 0
    fed: bool = False  # reads the data the caller chose (a SOURCE_NAMES key of ``context``)


# -- the batch ---------------------------------------------------------------------------

def render(reports: Iterable[str] | str | None = None, *,
           params: dict[str, Any] | list[dict[str, Any]] | None = None,
           out_dir: str | Path = "reports",
           jobs: int | None = None,
           notebooks_dir: str | Path | None = None,
           progress: Callable[[RenderEvent], None] | None = None,
           data_checksum: str | None = None,
           source: str | None = None,
           context: dict[str, Any] | None = None,
           force: bool = False,
           timeout: int | None = None,
           not_applicable: dict[str, str] | None = None) -> list[RenderResult]:
    """Render ``reports`` (names of notebooks in ``notebooks_dir``; None: all) to HTML.

    ``params``: one dict (CLI strings or typed values) for every report, or a list of
    dicts to render each report once per set. ``jobs``: notebooks executed at once
    (default: CPU count). ``data_checksum``: identifies the input data, for the cache
    (the CLI passes the warehouse's); ``source``: the data source shown in the header
    (redacted here). ``context``: values offered to the reports that declare them (the
    CLI offers ``warehouse``), below ``params`` and never an unknown-parameter error.
    ``force``: render even when cached. ``timeout``: seconds per cell (default: none).
    ``not_applicable``: report -> why the data cannot feed it (the ingest audit says);
    those are not run, and the index lists them with the reason.

    Returns the outputs rendered or cached. Raises ParameterError (nothing written) for
    a bad parameter, ConfigError for an unknown report, and RenderError after the batch
    when any output failed; its ``failures`` and ``results`` attributes list both sides.

    The render speaks the language of its ``language`` parameter (crmkit.report.language):
    the index page, the errors and, through ``progress``, the messages a caller prints.
    """
    with i18n.using(render_language(params)):
        return _render(reports, params=params, out_dir=out_dir, jobs=jobs,
                       notebooks_dir=notebooks_dir, progress=progress,
                       data_checksum=data_checksum, source=source, context=context,
                       force=force, timeout=timeout, not_applicable=not_applicable)


def _render(reports, *, params, out_dir, jobs, notebooks_dir, progress, data_checksum,
            source, context, force, timeout, not_applicable) -> list[RenderResult]:
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    out_dir = Path(out_dir)
    skipped = {name: why for name, why in (not_applicable or {}).items()
               if name in _report_names(reports, notebooks_dir)}
    batch = _plan([n for n in _report_names(reports, notebooks_dir) if n not in skipped],
                  params, notebooks_dir, context or {})
    check_output_folder(out_dir)
    source_shown = redact("source", source) if source else None
    template = _template_digest()
    for job in batch:
        job.cache_key = _cache_key(job, data_checksum, source_shown, template)

    manifest = load_manifest(out_dir)
    total = len(batch)
    state = {"done": 0}
    lock = threading.Lock()

    def emit(kind: str, job: _Job, **kw: Any) -> None:
        with lock:  # one event at a time: the CLI prints whole lines
            if kind in ("finished", "failed", "cached"):
                state["done"] += 1
            event = RenderEvent(kind, job.name, job.report, job.position, total, state["done"],
                                ignored=job.ignored, **kw)
            if progress is not None:
                progress(event)

    results: list[RenderResult] = []
    failures: list[RenderFailure] = []
    entries: dict[str, dict] = {}
    to_run, recovered = [], []
    for job in batch:
        entry = manifest["reports"].get(job.name, {})
        html = out_dir / f"{job.name}.html"
        if not force and entry.get("cache_key") == job.cache_key and html.exists():
            results.append(RenderResult(job.name, job.report, html, True, 0.0))
            emit("cached", job, elapsed=0.0, html=html)
            if "last_failure" in entry:  # that failure was for other parameters
                recovered.append(job.name)
        else:
            to_run.append(job)

    if skipped or any(n in manifest.get("not_applicable", {}) for n in
                      _report_names(reports, notebooks_dir)):
        with locked(out_dir / LOCK_FILE):
            manifest = load_manifest(out_dir)
            marked = manifest.setdefault("not_applicable", {})
            for name in _report_names(reports, notebooks_dir):
                marked.pop(name, None)
            now = _now().isoformat(timespec="seconds")
            for name, why in skipped.items():
                marked[name] = {"reason": why, "source": source_shown, "at": now}
            save_manifest(out_dir, manifest)
            write_index(out_dir, manifest, version=__version__)
    if to_run or recovered:
        header = {"source": source_shown,
                  "chosen": any(k in SOURCE_NAMES for k in (context or {}))}
        workers = max(1, min(jobs or _cpu_count(), len(to_run) or 1))
        for outcome in _run_workers(to_run, workers, out_dir, header, timeout, emit):
            if isinstance(outcome, RenderFailure):
                failures.append(outcome)
            else:
                result, entry = outcome
                results.append(result)
                entries[result.name] = entry
        with locked(out_dir / LOCK_FILE):
            manifest = load_manifest(out_dir)
            manifest["reports"].update(entries)
            for name in recovered:
                manifest["reports"].get(name, {}).pop("last_failure", None)
            now = _now()
            for failure in failures:
                old = manifest["reports"].get(failure.name)
                if old:
                    old["last_failure"] = {"at": now.isoformat(timespec="seconds"),
                                           "error": failure.error}
            save_manifest(out_dir, manifest)
            write_index(out_dir, manifest, version=__version__)
    elif not (out_dir / "index.html").exists():
        write_index(out_dir, manifest, version=__version__)

    order = {job.name: job.position for job in batch}
    results.sort(key=lambda r: order[r.name])
    if failures:
        failures.sort(key=lambda f: order[f.name])
        lines = "\n".join(f"  {f}" for f in failures)
        error = RenderError(tr("{failed} of {total} reports failed to render (the previous "
                               "HTML, if any, is unchanged):").format(failed=len(failures),
                                                                      total=total)
                            + f"\n{lines}")
        error.failures = failures
        error.results = results
        raise error
    return results


def check_output_folder(out_dir: str | Path, *, keep: bool = True) -> Path:
    """Create ``out_dir`` if missing and make sure reports can be written there (its
    ``_executed``/``_failed`` folders and lock file too); ConfigError naming the folder and
    the fix otherwise. Reports already there are left as they are. ``keep=False``: a
    folder made for the check is removed again (the check before anything runs)."""
    return check_writable_folder(out_dir, subfolders=(EXECUTED_DIR, FAILED_DIR),
                                 lock=LOCK_FILE, keep=keep)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may use (containers)
    except AttributeError:
        return os.cpu_count() or 1


def _report_names(reports, notebooks_dir: Path) -> list[str]:
    available = available_reports(notebooks_dir)
    if reports is None or reports == [] or reports == ():
        if not available:
            raise ConfigError(tr("no report notebooks (*.ipynb) in {folder}").format(
                folder=notebooks_dir))
        return available
    names = [reports] if isinstance(reports, str) else list(reports)
    for name in names:
        if name not in available:
            raise ConfigError(tr("unknown report {name}; available reports in {folder}: "
                                 "{reports}").format(name=repr(name), folder=notebooks_dir,
                                                     reports=", ".join(available) or tr("none")))
    return list(dict.fromkeys(names))


def check_parameters(reports: Iterable[str] | str | None, params, *,
                     notebooks_dir: str | Path | None = None) -> None:
    """Check ``params`` against the reports' parameters cells as :func:`render` does, and
    render nothing: ParameterError for an unknown name or a malformed value, ConfigError
    for an unknown report. The CLI calls it before ingesting the data."""
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else default_notebooks_dir()
    _plan(_report_names(reports, notebooks_dir), params, notebooks_dir, {})


def _plan(names: list[str], params, notebooks_dir: Path, context: dict[str, Any]) -> list[_Job]:
    """One job per report and distinct parameter set, all parameters checked."""
    param_sets = [dict(p) for p in params] if isinstance(params, (list, tuple)) else [dict(params or {})]
    if not param_sets:
        param_sets = [{}]
    notebooks = {}
    for name in names:
        path = notebooks_dir / f"{name}.ipynb"
        data = path.read_bytes()
        nb_json = json.loads(data)
        notebooks[name] = (path, hashlib.sha256(data).hexdigest(), nb_json, read_parameters(nb_json))

    declared = {p for *_, specs in notebooks.values() for p in specs}
    for param_set in param_sets:
        _language_alias(param_set, declared)
        for pname in param_set:
            if pname not in declared:
                none = tr("none")
                valid = "; ".join(f"{name}: {', '.join(specs) or none}"
                                  for name, (*_, specs) in notebooks.items())
                raise ParameterError(tr("unknown parameter {name}; valid parameters by "
                                        "report: {valid}").format(name=repr(pname),
                                                                  valid=valid))
            if pname in LANGUAGE_PARAMETERS and param_set[pname] not in (None, ""):
                language_of(pname, param_set[pname])  # a language with no catalog stops here

    batch: list[_Job] = []
    for name, (path, sha, nb_json, specs) in notebooks.items():
        seen, jobs = set(), []
        fed = [k for k in context if k in SOURCE_NAMES and k in specs]
        for param_set in param_sets:
            naming = [k for k, v in param_set.items()
                      if k in SOURCE_NAMES and k in specs and v not in (None, "")]
            if fed and naming:
                raise ParameterError(
                    tr("parameter {name} of report {report} names data, but the data is "
                       "already chosen ({chosen} = {value}); name the data once (crmkit "
                       "render --source or --config)").format(
                        name=repr(naming[0]), report=repr(name), chosen=fed[0],
                        value=redact(fed[0], context[fed[0]])))
            applied = {k: v for k, v in context.items() if k in specs}
            applied.update((k, v) for k, v in param_set.items() if k in specs)
            given = validate(specs, applied, report=name)
            key = json.dumps(_shown(given), sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            ignored = tuple(k for k in param_set if k not in specs)
            jobs.append(_Job(name, name, path, specs, given, ignored, sha, nb_json,
                             fed=bool(fed)))
        for job in jobs:
            _split_secrets(job)
        if len(jobs) > 1:
            _name_variants(jobs)
        batch.extend(jobs)
    for position, job in enumerate(batch, 1):
        job.position = position
    return batch


def _language_alias(param_set: dict[str, Any], declared: set[str]) -> None:
    """``lang`` for ``language`` (or the other way round) when the notebooks declare
    only the other name: ``--param lang=zh`` renders the reports in Chinese."""
    for given, declared_name in (("lang", "language"), ("language", "lang")):
        if given in param_set and given not in declared and declared_name in declared:
            value = param_set.pop(given)
            if param_set.get(declared_name, value) != value:
                raise ParameterError(tr("{first} and {second} name different languages; "
                                        "give one").format(first=f"{given}={value}",
                                                           second=f"{declared_name}="
                                                                  f"{param_set[declared_name]}"))
            param_set[declared_name] = value


def _shown(given: dict[str, Any]) -> dict[str, Any]:
    return {k: _text(redact(k, v)) for k, v in given.items()}


def _text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(str(_text(v)) for v in value)
    return value


def _split_secrets(job: _Job) -> None:
    # A secret default written in the notebook is scrubbed from the outputs too.
    for pname, spec in job.specs.items():
        if pname not in job.given and isinstance(spec.default, str) and is_secret(pname, spec.default):
            job.secret_texts.extend(secret_texts(pname, spec.default))
    for pname, value in job.given.items():
        spec = job.specs[pname]
        if isinstance(value, str) and is_secret(pname, value) and value:
            job.secrets[pname] = value
            job.secret_texts.extend(secret_texts(pname, value))
        else:
            job.values[pname] = _for_notebook(spec, value)
    job.shown = _shown(job.given)


def _for_notebook(spec: ParameterSpec, value: Any) -> Any:
    """A str-typed date parameter gets its ISO text, as its default is text."""
    if spec.type == "str" and isinstance(value, dt.date):
        return value.isoformat()
    return value


_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def _name_variants(jobs: list[_Job]) -> None:
    varying = [k for k in jobs[0].specs
               if len({json.dumps(j.shown.get(k), default=str) for j in jobs}) > 1 and k not in jobs[0].secrets]
    used: set[str] = set()
    for index, job in enumerate(jobs, 1):
        parts = [f"{k}={_UNSAFE.sub('_', str(job.shown.get(k, '')).replace(', ', '+'))[:40]}"
                 for k in varying]
        name = f"{job.report}--{'--'.join(parts)}" if parts else f"{job.report}--{index}"
        if name in used:
            name = f"{name}--{index}"
        used.add(name)
        job.name = name


def _template_digest() -> str:
    """The template and crmkit's own code: a report renders anew when either changed (a
    fixed KPI must not hide behind "up to date"). Hashing ~1 MB of files takes ~5 ms."""
    package = TEMPLATE_DIR.parents[1]
    digest = hashlib.sha256()
    files = [*TEMPLATE_DIR.rglob("*"), *package.rglob("*.py")]
    for path in sorted(p for p in files if p.is_file()):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cache_key(job: _Job, data_checksum: str | None, source: str | None, template: str) -> str:
    # Secrets count by their redacted form: a new password alone does not re-render.
    key = {"notebook": job.notebook_sha, "parameters": job.shown, "data": data_checksum,
           "source": source, "crmkit": __version__, "template": template}
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


# -- one output --------------------------------------------------------------------------

def _run_workers(jobs: list[_Job], workers: int, out_dir: Path, header: dict,
                 timeout: int | None, emit) -> list:
    """Run ``jobs`` on ``workers`` threads; each starts its kernel before importing
    papermill, keeps it from one report to the next (see crmkit.report.kernels) and shuts
    it down when the queue is empty."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    outcomes: list = []

    def work() -> None:
        from crmkit.report import kernels

        try:
            job = todo.get_nowait()
        except queue.Empty:
            return
        try:
            if not job.secrets:
                kernels.prestart_kernel(job.notebook.parent)
            while True:
                outcomes.append(_render_one(job, out_dir, header, timeout, emit))
                try:
                    job = todo.get_nowait()
                except queue.Empty:
                    return
        finally:
            kernels.release_kernel()

    # Each thread runs in a copy of the caller's context: the render's language.
    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work,),
                                name=f"crmkit-render-{i}")
               for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _render_one(job: _Job, out_dir: Path, header: dict, timeout: int | None, emit):
    """Execute and export one output; a RenderFailure instead of raising."""
    emit("started", job)
    began = time.perf_counter()
    try:
        return _execute_and_export(job, out_dir, header, timeout, emit, began)
    except Exception as err:  # a write failed (disk full ...): this output fails, not the batch
        return _failed(job, began, emit, f"{type(err).__name__}: {err}")


def _execute_and_export(job: _Job, out_dir: Path, header: dict, timeout: int | None, emit,
                        began: float):
    from crmkit.report import execute as runner  # papermill: ~2 s, once per process

    html_path = out_dir / f"{job.name}.html"
    failed_path = out_dir / FAILED_DIR / f"{job.name}.ipynb"
    try:
        executed = runner.execute(job.notebook, values=job.values, secrets=job.secrets,
                                  shown=job.shown, secret_texts=job.secret_texts,
                                  cwd=job.notebook.parent, timeout=timeout,
                                  keep_kernel=True)
    except Exception as err:  # a cell timed out, the kernel died or did not start
        partial = getattr(err, "crmkit_notebook", None)
        kept = write_atomic(failed_path, runner.write_notebook_text(partial)) if partial else None
        return _failed(job, began, emit, f"{type(err).__name__}: {err}", notebook=kept)

    if executed.error is not None:
        err = executed.error
        kept = write_atomic(failed_path, runner.write_notebook_text(executed.nb))
        cell, first_line = _failing_cell(job, err.cell_index)
        return _failed(job, began, emit, f"{err.ename}: {err.evalue}", cell=cell,
                       cell_source=first_line, notebook=kept)

    generated = _now()
    try:
        from crmkit.report.export import export_html

        page = export_html(executed.nb, _header(job, header, generated), folder=job.notebook.parent)
    except Exception as err:
        kept = write_atomic(failed_path, runner.write_notebook_text(executed.nb))
        return _failed(job, began, emit, tr("export failed: {error}").format(
            error=f"{type(err).__name__}: {err}"), notebook=kept)

    write_atomic(html_path, page)
    write_atomic(out_dir / EXECUTED_DIR / f"{job.name}.ipynb", runner.write_notebook_text(executed.nb))
    failed_path.unlink(missing_ok=True)
    elapsed = time.perf_counter() - began
    emit("finished", job, elapsed=elapsed, html=html_path)
    values = _effective(job)
    # The manifest holds English texts and the data to write them in another language:
    # the index page is written in the language of the render that writes it.
    with i18n.using(i18n.SOURCE_LANGUAGE):
        period, generated_text = _period(job), time_text(generated)
    entry = {
        "report": job.report,
        "title": _title(job.nb_json, job.report)[0],
        # the report's place in the list (the scorecard first): the notebook's own order
        "order": job.nb_json.get("metadata", {}).get("crmkit", {}).get("order"),
        "html": html_path.name,
        "period": period,
        "period_range": [values.get("start") or "", values.get("end") or ""],
        "language": _language(job).language,
        "parameters": job.shown,
        "generated_at": generated.isoformat(timespec="seconds"),
        "generated_at_text": generated_text,
        "elapsed": round(elapsed, 2),
        "cache_key": job.cache_key,
        "crmkit_version": __version__,
        "source": _chosen_source(job, header),
    }
    return RenderResult(job.name, job.report, html_path, False, elapsed), entry


def _failed(job: _Job, began: float, emit, error: str, **kw: Any) -> RenderFailure:
    for secret in job.secret_texts:
        error = error.replace(secret, "***")
    failure = RenderFailure(job.name, job.report, error, **kw)
    emit("failed", job, elapsed=time.perf_counter() - began, message=failure.detail)
    return failure


def _failing_cell(job: _Job, executed_index: int) -> tuple[int | None, str]:
    """(1-based position in the report notebook, first line) of the failing cell."""
    cells = job.nb_json.get("cells", [])
    injected = bool(job.values or job.secrets)
    params_at = next((i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
    index = executed_index
    if injected:
        injected_at = params_at + 1
        if index == injected_at:
            return None, "injected parameters"
        if index > injected_at:
            index -= 1
    if 0 <= index < len(cells):
        lines = [ln for ln in cell_source(cells[index]).splitlines() if ln.strip()]
        return index + 1, (lines[0].strip() if lines else "")
    return None, ""


# -- header --------------------------------------------------------------------------------

_TEXT_CALL = re.compile(r"report\.text\((.*)\)", re.DOTALL)


def _first_text(nb_json: dict) -> str | None:
    """The notebook's first text: its first markdown cell, or the English message of its
    first ``report.text("...")`` cell (crmkit.sections.notebooks writes those)."""
    import ast

    for cell in nb_json.get("cells", []):
        source = cell_source(cell)
        if cell.get("cell_type") == "markdown":
            return source
        match = _TEXT_CALL.fullmatch(source.strip()) if cell.get("cell_type") == "code" else None
        if match:
            try:
                text = ast.literal_eval(match.group(1))
            except (ValueError, SyntaxError):
                continue
            if isinstance(text, str):
                return text
    return None


def _heading(text: str | None) -> str | None:
    """The ``# Title`` a text starts with, or None."""
    first = (text or "").lstrip("\n").split("\n", 1)[0]
    match = re.match(r"#\s+(.+?)\s*#*\s*$", first)
    return match.group(1) if match else None


def _title(nb_json: dict, report: str) -> tuple[str, bool]:
    """(title, does the notebook's first text start with it as a ``# Title``?), in
    English: the notebook's metadata title, else that heading, else the report's name.
    When the text starts with the title, the header shows it and the body does not."""
    meta = nb_json.get("metadata", {}).get("crmkit", {})
    heading = _heading(_first_text(nb_json))
    if meta.get("title"):
        return str(meta["title"]), heading == str(meta["title"])
    if heading:
        return heading, True
    return report.replace("_", " ").capitalize(), False


def _language(job: _Job) -> i18n.Setting:
    """The language a report is written in: its ``language`` (or ``lang``) parameter,
    else the notebook's metadata, else the parameter's default, else English."""
    meta = job.nb_json.get("metadata", {}).get("crmkit", {})
    values = _effective(job)
    for value in ([job.given.get(n) for n in LANGUAGE_PARAMETERS] + [meta.get("language")]
                  + [values.get(n) for n in LANGUAGE_PARAMETERS]):
        if value not in (None, ""):
            try:
                return i18n.setting(str(value))
            except ValueError:
                continue  # the kernel says what is wrong with it
    return i18n.setting()


def _effective(job: _Job) -> dict[str, Any]:
    values = {name: spec.default for name, spec in job.specs.items()}
    values.update(job.given)
    return {k: _text(redact(k, v)) for k, v in values.items()}


def _period(job: _Job) -> str:
    """The period, in the active language: ``2025-04-01 to 2025-06-30``."""
    values = _effective(job)
    return period_text(values.get("start"), values.get("end"))


def _filters(job: _Job) -> str:
    from crmkit.schema import TABLES

    meta = job.nb_json.get("metadata", {}).get("crmkit", {})
    if "filters" in meta:
        names = list(meta["filters"])
    else:
        columns = {c.name for t in TABLES.values() for c in t.columns if c.kind in ("category", "id")}
        names = [n for n, spec in job.specs.items()
                 if n not in NOT_FILTERS and n not in PERIOD_NAMES
                 and (n in columns or spec.comment.lower().startswith("filter"))]
    values = _effective(job)
    parts = [(n, values[n]) for n in names
             if n in values and values[n] not in (None, "", "all", [], "*")]
    return facts_list(parts) or tr("none (all data)")


def _chosen_source(job: _Job, header: dict) -> str | None:
    """The caller's ``source`` when the report takes the data the caller chose, or the
    caller chose none and only labels it; else None."""
    return header.get("source") if job.fed or not header.get("chosen") else None


def _data_source(job: _Job, header: dict) -> str:
    """The data the report's numbers come from: :func:`_chosen_source`, else the data the
    report's own parameters name."""
    if _chosen_source(job, header):
        return str(_chosen_source(job, header))
    values = _effective(job)
    for name in SOURCE_NAMES:
        if values.get(name):
            return str(values[name])
    return tr("as set in the notebook")


def _header(job: _Job, header: dict, generated: dt.datetime) -> dict:
    """What the page's header and footer say, in the report's language. The title is
    the English title's translation; when the notebook's first text starts with it as
    a ``# Title``, the export takes it from there, as the report wrote it."""
    setting = _language(job)
    title, from_heading = _title(job.nb_json, job.report)
    with i18n.using(setting):
        facts = [(tr("Period"), _period(job) or tr("all dates")),
                 (tr("Filters"), _filters(job)),
                 (tr("Data source"), _data_source(job, header)),
                 (tr("Generated"), time_text(generated))]
        english = setting.language == i18n.SOURCE_LANGUAGE
        return {
            "title": tr(title),
            "title_from_heading": from_heading,
            # English names the report as `crmkit render` takes it; another language's
            # reader has the title.
            "kicker": (tr("CRM report · {report}").format(report=job.report) if english
                       else tr("CRM report")),
            "facts": facts,
            "footer": tr("Generated {time} by crmkit {version} from {notebook}; parameters: "
                         "{parameters}.").format(
                time=generated.isoformat(timespec="seconds") if english else time_text(generated),
                version=__version__, notebook=f"notebooks/{job.notebook.name}",
                parameters=facts_list(job.shown.items()) or tr("defaults")),
            "language": html_lang(setting),
            "contents": tr("Contents"),
            "version": __version__,
        }
