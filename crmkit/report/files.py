"""File writes for reports: atomic replace, a lock for the shared manifest, and a check
that the output folder can take them before any work starts."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from crmkit.exceptions import ConfigError
from crmkit.i18n import tr


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` so a reader sees the old file or the new one, never half.

    The text goes to a temporary file in the same directory (same file system), is
    flushed to disk, then ``os.replace``-d over ``path``. On any error the temporary file
    is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def check_writable_folder(folder: str | Path, *, subfolders: tuple[str, ...] = (),
                          lock: str | None = None, option: str = "--out",
                          keep: bool = True) -> Path:
    """Create ``folder`` if missing and prove that files can be written into it (and into
    each of ``subfolders`` that exists), and that its ``lock`` file opens.

    Raises ConfigError naming the folder and the fix when ``folder`` is a file, lies
    under a file, or cannot be written (permission denied, read-only file system). Only
    a probe file is created and removed: what the folder holds is left as it was.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(tr("the output folder {folder} is a file, not a folder; name a "
                             "folder with {option} DIR").format(folder=folder, option=option))
    # keep=False: folders made only to prove they can be made are removed again, so a
    # render that stops later (a parameter the data cannot take) leaves nothing behind.
    made = [] if keep else [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        _check_writable(folder, subfolders, lock, option)
    finally:
        for place in made:  # deepest first; those that could be made at all
            try:
                if lock is not None and place == folder and place.is_dir():
                    (folder / lock).unlink(missing_ok=True)
                place.rmdir()
            except OSError:
                break
    return folder


def _check_writable(folder: Path, subfolders: tuple[str, ...], lock: str | None,
                    option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()),
                       folder)
        raise ConfigError(tr("cannot create the output folder {folder}: {blocker} is a file; "
                             "name a folder with {option} DIR").format(
                                 folder=folder, blocker=blocker, option=option)) from None
    except OSError as err:
        parent = next((p for p in folder.parents if p.exists()), folder.parent)
        raise _unwritable(parent, err, option, creating=folder) from None
    for place in (folder, *(folder / s for s in subfolders)):
        if place.exists() and not place.is_dir():
            raise ConfigError(tr("{place} is a file where crmkit keeps a folder of notebooks; "
                                 "move it away, or name another folder with {option} DIR").format(
                                     place=place, option=option))
        if not place.is_dir():
            continue
        try:
            fd, probe = tempfile.mkstemp(prefix=".crmkit-write-check.", dir=place)
            os.close(fd)
            os.unlink(probe)
        except OSError as err:
            raise _unwritable(place, err, option) from None
    if lock is not None:
        _open_lock(folder / lock, option).close()


def _unwritable(place: Path, err: OSError, option: str, *, creating: Path | None = None
                ) -> ConfigError:
    why = tr("a read-only file system") if err.errno == errno.EROFS else (
        tr("permission denied") if isinstance(err, PermissionError)
        else err.strerror or str(err))
    fix = (tr("name a folder on a writable disk with {option} DIR")
           if err.errno == errno.EROFS else
           tr("make it writable (chmod u+w {place}) or name another folder with {option} DIR")
           ).format(option=option, place=place)
    text = (tr("cannot create the output folder {folder}: the folder {place} cannot be "
               "written ({why}); {fix}") if creating else
            tr("the folder {place} cannot be written ({why}); {fix}"))
    return ConfigError(text.format(folder=creating, place=place, why=why, fix=fix))


def _open_lock(path: Path, option: str = "--out"):
    """The lock file, open. A lock file that cannot be written (another user's, or made
    read-only) is opened to read: flock needs no write access."""
    try:
        return open(path, "a+")
    except IsADirectoryError:
        raise ConfigError(tr("{path} is a folder, where crmkit keeps its lock file; remove "
                             "it, or name another folder with {option} DIR").format(
                                 path=path, option=option)) from None
    except PermissionError as err:
        if not path.exists():
            raise _unwritable(path.parent, err, option) from None
        try:
            return open(path)
        except OSError:
            raise ConfigError(tr("cannot open the lock file {path} (permission denied): "
                                 "remove it (rm {path}) or give your user access to it, or "
                                 "name another folder with {option} DIR").format(
                                     path=path, option=option)) from None
    except OSError as err:
        raise _unwritable(path.parent, err, option) from None


@contextlib.contextmanager
def locked(path: str | Path):
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs.

    Two ``crmkit render`` runs into the same folder then update the manifest one after
    the other instead of one losing the other's entries. No-op where fcntl is missing.
    A lock file that cannot be opened is a ConfigError that says what to do.
    """
    path = Path(path)
    if not path.parent.is_dir():
        check_writable_folder(path.parent)
    with _open_lock(path) as handle:
        try:
            import fcntl
        except ImportError:  # Windows: best effort
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
