"""Speech models: the manifest, download and install, verification and lookup.

The model manifest (``voice_triage/data/models.yaml``) lists the known vosk
models (name, language, url, size, sha256, format, root).  ``download`` streams one to a temporary file in
the models folder, checks its size and SHA-256, extracts the model folder
(``root`` inside the archive) next to it, writes a list of the SHA-256 of every
extracted file and only then moves it to ``models/<name>``, so an existing
install is never left half-replaced.  ``verify`` re-hashes installed models
against that list; ``find_model`` picks the model a session uses.

Every failure is a :class:`ModelError` whose ``str()`` is one line saying what
is wrong and what to do about it.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import importlib.util
import os
import re
import secrets
import shutil
import socket
import ssl
import stat
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, TextIO

from ..core.paths import MODEL_MANIFEST, models_dir
from ..core.yamlload import ContentError, LineDict, LineList, Problem, load_file, where

MODELS_DIR = models_dir()
MANIFEST_PATH = MODEL_MANIFEST
HASH_LIST = ".voice-triage-files.sha256"
ENV_VAR = "VOICE_TRIAGE_MODEL"
FORMATS = ("zip", "wheel")
FIELDS = ("name", "language", "url", "size", "sha256", "format", "root")

_CHUNK = 1 << 20
_USER_AGENT = "voice-triage (model download)"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)*$")
_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_HASH_LINE_RE = re.compile(r"^([0-9a-f]{64})  (.+)$")


class ModelError(Exception):
    """A model that cannot be downloaded, installed or found: str() is one line saying what to do."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of the manifest."""

    name: str
    language: str
    url: str
    size: int  # bytes of the archive
    sha256: str  # of the archive, lower-case hex
    format: str  # "zip" or "wheel" (a wheel is a zip too)
    root: str  # the folder inside the archive that is the model ("." for the whole archive)


# ------------------------------------------------------------------ manifest


def load_manifest(path: Path = MANIFEST_PATH) -> list[ModelEntry]:
    """Read and check the manifest; raise ContentError listing every problem as ``path:line: message``."""
    data = load_file(path)
    problems: list[Problem] = []

    def problem(node: Any, key: str | int | None, message: str) -> None:
        file, line = where(node, key)
        problems.append(Problem(file if file != "?" else str(path), line, message))

    if not isinstance(data, LineDict):
        problems.append(Problem(str(path), 1, "the manifest must be a mapping with a `models:` list"))
        raise ContentError(problems)
    for key in data:
        if key != "models":
            problem(data, key, f"unknown key {key!r} (the manifest has only `models:`)")
    items = data.get("models")
    if "models" not in data:
        problem(data, None, "missing `models:` (a list of model entries)")
    elif not isinstance(items, LineList):
        problem(data, "models", "`models:` must be a list of model entries")
    entries: list[ModelEntry] = []
    first_line: dict[str, int] = {}
    for index, item in enumerate(items if isinstance(items, LineList) else []):
        if not isinstance(item, LineDict):
            problem(items, index, "a model entry must be a mapping of " + ", ".join(FIELDS))
            continue
        before = len(problems)
        for key in item:
            if key not in FIELDS:
                problem(item, key, f"unknown key {key!r} (known: {', '.join(FIELDS)})")
        for field in FIELDS:
            if field not in item:
                problem(item, None, f"model entry is missing {field!r}")
        for field, value in item.items():
            if field in FIELDS:
                message = _field_problem(field, value)
                if message:
                    problem(item, field, message)
        name = item.get("name")
        if isinstance(name, str):
            _, line = where(item, "name")
            if name in first_line:
                problem(item, "name", f"duplicate model name {name!r} (first at line {first_line[name]})")
            else:
                first_line[name] = line
        if len(problems) == before:
            entries.append(
                ModelEntry(
                    name=item["name"],
                    language=item["language"],
                    url=item["url"],
                    size=item["size"],
                    sha256=item["sha256"].lower(),
                    format=item["format"],
                    root=_clean_root(item["root"]),
                )
            )
    if problems:
        raise ContentError(problems)
    return entries


def _field_problem(field: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``field``, or None."""
    if field == "size":
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return f"size must be a whole number of bytes greater than 0, not {value!r}"
        return None
    if not isinstance(value, str):
        if field == "sha256":
            return "sha256 must be 64 hexadecimal digits in quotes"
        return f"{field} must be text, not {value!r}"
    if field == "name" and not _NAME_RE.match(value):
        return f"name {value!r} must be a plain folder name (letters, digits, '.', '_', '-')"
    if field == "language" and not _LANGUAGE_RE.match(value):
        return f"language {value!r} must be a language code such as 'en' or 'ko'"
    if field == "url" and not value.startswith(("https://", "http://")):
        return f"url {value!r} must start with https:// or http://"
    if field == "sha256" and not _SHA256_RE.match(value):
        return f"sha256 must be 64 hexadecimal digits, not {value!r}"
    if field == "format" and value not in FORMATS:
        return f"format {value!r} must be one of {', '.join(FORMATS)}"
    if field == "root" and not _safe_relative(value.strip("/") or ".", allow_dot=True):
        return f"root {value!r} must be a relative folder inside the archive (no '..', no '\\')"
    return None


def _clean_root(root: str) -> str:
    cleaned = str(PurePosixPath(root.strip("/") or "."))
    return "" if cleaned == "." else cleaned


def _safe_relative(name: str, *, allow_dot: bool = False) -> bool:
    """True for a relative POSIX path that cannot leave its folder."""
    if not name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return False
    parts = PurePosixPath(name).parts
    if allow_dot and parts == (".",):
        return True
    return bool(parts) and ".." not in parts


def _find_entry(manifest: Sequence[ModelEntry], name: str) -> ModelEntry | None:
    return next((e for e in manifest if e.name == name), None)


# ------------------------------------------------------------------ model folders


def missing_essentials(path: Path) -> list[str]:
    """The vosk model files that ``path`` lacks (empty when it looks like a model)."""
    missing = [rel for rel in ("am/final.mdl", "conf/model.conf") if not (path / rel).is_file()]
    if not (path / "graph/HCLG.fst").is_file():
        lookahead = [rel for rel in ("graph/HCLr.fst", "graph/Gr.fst") if not (path / rel).is_file()]
        if lookahead:
            missing.append("graph/HCLG.fst" if len(lookahead) == 2 else lookahead[0])
    return missing


def check_model_dir(path: Path, *, source: str = "", fix: str = "pass --model with a vosk model folder") -> Path:
    """Return ``path`` if it is a vosk model folder, else raise ModelError naming it and ``fix``."""
    label = f"{path} ({source})" if source else str(path)
    if not path.exists():
        raise ModelError(f"The speech model folder {label} does not exist; {fix}.")
    if not path.is_dir():
        raise ModelError(f"The speech model path {label} is a file, not a model folder; {fix}.")
    missing = missing_essentials(path)
    if missing:
        hint = ""
        inner = [p for p in _subfolders(path) if not missing_essentials(p)]
        if len(inner) == 1:
            hint = f" (the model seems to be in {inner[0]})"
        raise ModelError(
            f"The folder {label} is not a complete vosk model: it has no {', '.join(missing)}{hint}; {fix}."
        )
    return path


def _subfolders(path: Path) -> list[Path]:
    try:
        return sorted(p for p in path.iterdir() if p.is_dir())
    except OSError:
        return []


# ------------------------------------------------------------------ download


def download(entry: ModelEntry, models_dir: Path = MODELS_DIR, *, progress: bool = True, timeout: float = 30) -> Path:
    """Download, check and install ``entry`` as ``models_dir/<name>``; return that folder.

    Temporary files live in ``models_dir`` and are removed on any failure (or
    interrupt); an existing install is swapped out only once the new one is
    complete.
    """
    name = entry.name
    where_to = _show(models_dir)
    again = f"run `voice-triage models download {name}` again"
    archive: Path | None = None
    staging: Path | None = None
    try:
        try:
            models_dir.mkdir(parents=True, exist_ok=True)
            _need_space(entry, models_dir, entry.size, models_dir)
            fd, archive_name = tempfile.mkstemp(dir=models_dir, prefix=f".{name}.", suffix=".download")
            archive = Path(archive_name)
            with os.fdopen(fd, "wb") as out:
                _fetch(entry, out, models_dir, progress=progress, timeout=timeout)
            staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{name}.", suffix=".partial"))
            os.chmod(staging, 0o755)
            _extract(entry, archive, staging)
            archive.unlink()
            archive = None
            final = _install(staging, models_dir / name)
            staging = None
            return final
        except ModelError:
            raise
        except OSError as exc:
            raise ModelError(
                f"Could not install {name}: cannot write to {where_to} ({_disk_reason(exc)}). "
                f"Free some disk space or fix the folder's permissions, then {again}."
            ) from exc
    finally:
        if archive is not None:
            archive.unlink(missing_ok=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _fetch(entry: ModelEntry, out: IO[bytes], models_dir: Path, *, progress: bool, timeout: float) -> None:
    """Stream the archive into ``out``, checking its size and SHA-256."""
    from tqdm import tqdm

    name = entry.name
    into = _show(models_dir)
    request = urllib.request.Request(entry.url, headers={"User-Agent": _USER_AGENT})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise ModelError(
            f"Could not download {name}: the server answered HTTP {exc.code} {_one_line(exc.reason)} for {entry.url}. "
            f"Try again later, or check the url in voice_triage/data/models.yaml, or copy the model folder into {into}."
        ) from exc
    except urllib.error.URLError as exc:
        raise ModelError(_network_message(name, exc.reason, into)) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise ModelError(_network_message(name, exc, into)) from exc
    digest = hashlib.sha256()
    total = 0
    with response:
        announced = response.headers.get("Content-Length")
        if announced is not None and announced.isdigit() and int(announced) != entry.size:
            raise _size_error(entry, int(announced), announced=True)
        bar = tqdm(
            total=entry.size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=name,
            file=sys.stderr,
            disable=not progress,
            leave=False,
        )
        with bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except http.client.IncompleteRead as exc:
                    raise ModelError(
                        _network_message(
                            name,
                            f"the connection broke off after {total + len(exc.partial)} of {entry.size} bytes",
                            into,
                        )
                    ) from exc
                except (OSError, http.client.HTTPException) as exc:
                    raise ModelError(_network_message(name, exc, into)) from exc
                if not chunk:
                    break
                total += len(chunk)
                if total > entry.size:
                    raise _size_error(entry, total, announced=False, larger=True)
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    if total < entry.size and announced is not None:
        # The server promised the right size but the connection ended early.
        broke = f"the connection broke off after {total} of {entry.size} bytes"
        raise ModelError(_network_message(name, broke, into))
    if total != entry.size:
        raise _size_error(entry, total, announced=False)
    got = digest.hexdigest()
    if got != entry.sha256:
        raise ModelError(
            f"Could not install {name}: the download is damaged or changed (SHA-256 mismatch: expected "
            f"{entry.sha256[:12]}…, got {got[:12]}…). Run `voice-triage models download {name}` again; if it "
            f"fails the same way, the file at {entry.url} changed: update voice_triage/data/models.yaml."
        )


def _network_message(name: str, reason: object, into: str) -> str:
    if isinstance(reason, ssl.SSLError | ssl.CertificateError):
        return (
            f"Could not download {name}: the secure connection failed ({_one_line(reason)}). "
            f"Check the computer's date and time and any proxy, then run `voice-triage models download {name}` "
            f"again, or copy the model folder into {into}."
        )
    if isinstance(reason, TimeoutError | socket.timeout):
        detail = "the connection timed out"
    elif isinstance(reason, socket.gaierror):
        detail = f"cannot look up the server: {_one_line(reason)}"
    else:
        detail = _one_line(reason)
    return (
        f"Could not download {name}: no network connection ({detail}). Connect to the internet and run "
        f"`voice-triage models download {name}` again, or copy the model folder into {into}."
    )


def _size_error(entry: ModelEntry, got: int, *, announced: bool, larger: bool = False) -> ModelError:
    if announced:
        what = f"the server offers {got} bytes"
    elif larger:
        what = f"the download is larger than {entry.size} bytes"
    else:
        what = f"the download has {got} bytes"
    return ModelError(
        f"Could not install {entry.name}: {what} but the manifest expects {entry.size} (size mismatch). "
        f"Run `voice-triage models download {entry.name}` again; if it fails the same way, the file at "
        f"{entry.url} has changed and voice_triage/data/models.yaml must be updated."
    )


def _extract(entry: ModelEntry, archive: Path, staging: Path) -> None:
    """Extract ``entry.root`` of the archive into ``staging`` and write the hash list."""
    name = entry.name
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
        raise ModelError(
            f"Could not install {name}: the download is not a readable {entry.format} archive ({_one_line(exc)}). "
            f"Run `voice-triage models download {name}` again."
        ) from exc
    with zf:
        infos = zf.infolist()
        for info in infos:
            if not _safe_relative(info.filename.rstrip("/")) or stat.S_ISLNK(info.external_attr >> 16):
                raise ModelError(
                    f"Could not install {name}: the archive holds an unsafe path {info.filename!r} "
                    f"(outside its folder or a link), so nothing was extracted. "
                    f"Do not use this file; check the url in voice_triage/data/models.yaml."
                )
        prefix = f"{entry.root}/" if entry.root else ""
        members = [i for i in infos if i.filename.startswith(prefix) and i.filename != prefix]
        if not members:
            raise ModelError(
                f"Could not install {name}: the archive has no folder {entry.root!r}. "
                f"Fix `root` for {name} in voice_triage/data/models.yaml."
            )
        _need_space(entry, staging, sum(i.file_size for i in members), staging.parent)
        hashes: dict[str, str] = {}
        for info in members:
            rel = info.filename[len(prefix) :]
            target = staging / rel
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        dst.write(chunk)
                    dst.flush()
                    os.fsync(dst.fileno())
            except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
                raise ModelError(
                    f"Could not install {name}: the archive is damaged at {info.filename} ({_one_line(exc)}). "
                    f"Run `voice-triage models download {name}` again."
                ) from exc
            hashes[PurePosixPath(rel).as_posix()] = digest.hexdigest()
    missing = missing_essentials(staging)
    if missing:
        raise ModelError(
            f"Could not install {name}: the folder {entry.root or '(top)'} of the archive is not a vosk model "
            f"(no {', '.join(missing)}). Fix `root` or `url` for {name} in voice_triage/data/models.yaml."
        )
    listing = "".join(f"{digest}  {rel}\n" for rel, digest in sorted(hashes.items()))
    with open(staging / HASH_LIST, "w", encoding="utf-8") as f:
        f.write(listing)
        f.flush()
        os.fsync(f.fileno())


def _install(staging: Path, final: Path) -> Path:
    """Move the complete ``staging`` folder to ``final``, swapping out an existing install."""
    backup: Path | None = None
    if final.exists() or final.is_symlink():
        backup = final.with_name(f".{final.name}.old-{secrets.token_hex(4)}")
        os.rename(final, backup)
    try:
        os.replace(staging, final)
    except OSError:
        if backup is not None:
            os.rename(backup, final)
        raise
    _fsync_dir(final.parent)
    if backup is not None:
        if backup.is_dir() and not backup.is_symlink():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            backup.unlink(missing_ok=True)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _need_space(entry: ModelEntry, folder: Path, needed: int, shown: Path) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if free < needed + (16 << 20):
        raise ModelError(
            f"Could not install {entry.name}: not enough disk space in {_show(shown)} "
            f"(needs about {_mb(needed)}, {_mb(free)} free). "
            f"Free some space, then run `voice-triage models download {entry.name}` again."
        )


def _disk_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied: {exc.filename or ''}".rstrip(": ")
    return _one_line(exc)


def _mb(size: int) -> str:
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e6:.1f} MB"


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text or type(value).__name__


def _show(path: Path) -> str:
    """``models/`` for the project's folder, else the path itself."""
    try:
        if path.resolve() == MODELS_DIR.resolve():
            return "models/"
    except OSError:
        pass
    return f"{path}/"


# ------------------------------------------------------------------ verify


def verify(models_dir: Path = MODELS_DIR, manifest: Sequence[ModelEntry] | None = None) -> list[tuple[str, str]]:
    """(name, status) for each manifest entry: "ok", "missing", "corrupt: <file>" or "unverified: <why>".

    "unverified" is a model folder with the vosk essentials but no hash list
    (copied in by hand rather than installed with ``download``).
    """
    if manifest is None:
        manifest = load_manifest()
    return [(entry.name, _status(models_dir / entry.name)) for entry in manifest]


def _status(folder: Path) -> str:
    if not folder.exists():
        return "missing"
    if not folder.is_dir():
        return f"corrupt: {folder.name} is not a folder"
    listing = folder / HASH_LIST
    bad: list[str] = []
    if not listing.is_file():
        missing = missing_essentials(folder)
        if missing:
            return f"corrupt: {missing[0]} missing"
        return f"unverified: no {HASH_LIST} (copied by hand?)"
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return f"corrupt: {HASH_LIST} unreadable"
    for line in lines:
        match = _HASH_LINE_RE.match(line)
        if not match or not _safe_relative(match.group(2)):
            return f"corrupt: {HASH_LIST} malformed"
        expected, rel = match.groups()
        path = folder / rel
        try:
            if _file_sha256(path) != expected:
                bad.append(rel)
        except FileNotFoundError:
            bad.append(f"{rel} missing")
        except OSError:
            bad.append(f"{rel} unreadable")
    bad.extend(f"{rel} missing" for rel in missing_essentials(folder) if not any(b.startswith(rel) for b in bad))
    if not bad:
        return "ok"
    more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return f"corrupt: {bad[0]}{more}"


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ lookup


def find_model(
    language: str,
    *,
    cli_path: Path | None = None,
    env: Mapping[str, str] = os.environ,
    models_dir: Path = MODELS_DIR,
    manifest: Sequence[ModelEntry] | None = None,
) -> Path:
    """The model folder for ``language``.

    Order: ``cli_path`` (--model), ``$VOICE_TRIAGE_MODEL``, ``models_dir/<name>``
    for a manifest entry of that language, then an installed model package
    (``vosk_model_<lang>``, its ``model/`` folder).  A path that is given but
    is not a vosk model raises ModelError rather than falling through.
    """
    if cli_path is not None:
        return check_model_dir(
            Path(cli_path).expanduser(),
            source="given with --model",
            fix="check the path, or leave out --model to use the installed model",
        )
    from_env = env.get(ENV_VAR, "").strip()
    if from_env:
        return check_model_dir(
            Path(from_env).expanduser(),
            source=f"from ${ENV_VAR}",
            fix=f"fix or unset {ENV_VAR}, or pass --model",
        )
    if manifest is None:
        try:
            manifest = load_manifest()
        except ContentError as exc:
            first = exc.problems[0] if exc.problems else "unreadable"
            raise ModelError(
                f"The model list voice_triage/data/models.yaml is invalid ({first}); "
                "fix it, or pass --model with a model folder."
            ) from None
    base = _base_language(language)
    entries = [e for e in manifest if _base_language(e.language) == base]
    for entry in entries:
        folder = models_dir / entry.name
        if folder.exists():
            return check_model_dir(folder, fix=f"run `voice-triage models download {entry.name}` or pass --model")
    for package, sub in _packages(base, entries):
        found = _package_model(package, sub)
        if found is not None:
            return found
    if entries:
        raise ModelError(
            f"No speech model for language {language!r} is installed; run "
            f"`voice-triage models download {entries[0].name}` or pass --model with a vosk model folder."
        )
    raise ModelError(
        f"No speech model is known for language {language!r}; pass --model with a vosk model folder or set {ENV_VAR}."
    )


class ModelDownloadFailed(ModelError):
    """The language's model is not installed and could not be downloaded now (``reason``: why, briefly)."""

    def __init__(self, message: str, name: str, reason: str) -> None:
        super().__init__(message)
        self.name = name
        self.reason = reason


def ensure_model(
    language: str,
    *,
    err: TextIO = sys.stderr,
    env: Mapping[str, str] = os.environ,
    models_dir: Path = MODELS_DIR,
    manifest: Sequence[ModelEntry] | None = None,
    progress: bool = True,
    timeout: float = 30,
) -> Path:
    """:func:`find_model`, and when the language's model is simply not installed, download it.

    The download is the model manager's (:func:`download`): a progress bar on
    ``err``, the size and the SHA-256 checked before anything is installed.
    A model that is given (``$VOICE_TRIAGE_MODEL``) or installed but broken is
    never replaced behind the user's back: that error is raised as it is.  A
    download that fails raises :class:`ModelDownloadFailed`.
    """
    try:
        return find_model(language, env=env, models_dir=models_dir, manifest=manifest)
    except ModelError:
        if env.get(ENV_VAR, "").strip():
            raise
        try:
            known = list(manifest) if manifest is not None else load_manifest()
        except ContentError:
            raise
        base = _base_language(language)
        entries = [e for e in known if _base_language(e.language) == base]
        if not entries or any((models_dir / e.name).exists() for e in entries):
            raise
    entry = entries[0]
    print(
        f"The {language} speech model is not installed: downloading {entry.name} ({_mb(entry.size)}) "
        f"into {_show(models_dir)}, checked against its SHA-256.",
        file=err,
        flush=True,
    )
    try:
        download(entry, models_dir, progress=progress, timeout=timeout)
    except ModelError as exc:
        text = str(exc)
        reason = text.split(": ", 1)[1] if text.startswith("Could not ") and ": " in text else text
        reason = reason.split(". ", 1)[0].rstrip(".")
        raise ModelDownloadFailed(text, entry.name, reason) from exc
    print(f"Installed {entry.name}.", file=err, flush=True)
    return find_model(language, env=env, models_dir=models_dir, manifest=known)


def _base_language(language: str) -> str:
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0]


def _packages(language: str, entries: Sequence[ModelEntry]) -> list[tuple[str, str]]:
    """(package, subfolder) candidates: from wheel entries' roots, then ``vosk_model_<lang>/model``."""
    found: list[tuple[str, str]] = []
    for entry in entries:
        if entry.format == "wheel" and entry.root:
            package, _, sub = entry.root.partition("/")
            if package.isidentifier():
                found.append((package, sub))
    default = (f"vosk_model_{language}", "model")
    if language.isidentifier() and default not in found:
        found.append(default)
    return found


def _package_model(package: str, sub: str) -> Path | None:
    """The model folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if not locations and spec.origin:
        locations = [str(Path(spec.origin).parent)]
    for location in locations:
        folder = Path(location) / sub if sub else Path(location)
        if folder.is_dir() and not missing_essentials(folder):
            return folder
    return None


# ------------------------------------------------------------------ CLI helpers


def cmd_list(out: TextIO, *, models_dir: Path = MODELS_DIR, manifest_path: Path = MANIFEST_PATH) -> int:
    """Print the known models and whether each is installed."""
    manifest = _load_for_cli(manifest_path)
    if manifest is None:
        return 1
    if not manifest:
        print(f"No models are listed in {manifest_path}.", file=out)
        return 0
    for entry in manifest:
        folder = models_dir / entry.name
        state = "installed" if folder.is_dir() and not missing_essentials(folder) else "not installed"
        print(f"{entry.name}  [{entry.language}]  {_mb(entry.size)} {entry.format}  {state}", file=out)
    print(f"Models folder: {models_dir}", file=out)
    return 0


def cmd_download(
    name: str,
    out: TextIO,
    *,
    models_dir: Path = MODELS_DIR,
    manifest_path: Path = MANIFEST_PATH,
    progress: bool | None = None,
) -> int:
    """Download and install one model by name: 0 done, 1 failed, 2 unknown name."""
    manifest = _load_for_cli(manifest_path)
    if manifest is None:
        return 1
    entry = _find_entry(manifest, name)
    if entry is None:
        known = ", ".join(e.name for e in manifest) or "none"
        print(
            f"Unknown model {name!r}: the known models are {known} (see `voice-triage models list`).", file=sys.stderr
        )
        return 2
    print(f"Downloading {entry.name} ({_mb(entry.size)}) from {entry.url}", file=out)
    try:
        folder = download(entry, models_dir, progress=sys.stderr.isatty() if progress is None else progress)
    except ModelError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Installed {entry.name} in {folder}", file=out)
    return 0


def cmd_verify(out: TextIO, *, models_dir: Path = MODELS_DIR, manifest_path: Path = MANIFEST_PATH) -> int:
    """Re-check installed models: 0 when none is corrupt (missing ones are only reported), else 1."""
    manifest = _load_for_cli(manifest_path)
    if manifest is None:
        return 1
    status = 0
    for name, state in verify(models_dir, manifest):
        hint = ""
        if state == "missing":
            hint = f" (run `voice-triage models download {name}` to install it)"
        elif state.startswith("corrupt"):
            hint = f" (run `voice-triage models download {name}` to reinstall it)"
            status = 1
        print(f"{name}: {state}{hint}", file=out)
    return status


def _load_for_cli(path: Path) -> list[ModelEntry] | None:
    try:
        return load_manifest(path)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return None
