"""Deployment: the systemd units in deploy/systemd/, the Docker image's HEALTHCHECK, and the command
under both (`newsmon status --check`) run as a subprocess against real archives.

systemd-analyze, strace and a Docker engine are tools, not services this machine guarantees: a test
that needs one skips, naming the tool, when it is absent, also under CI=true. Everything else runs
everywhere."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from replay.environment import DEMO_CONFIG, ReplayEnvironment, newsmon_executable
from tests.helpers.config import write_config

REPO = Path(__file__).resolve().parents[2]
UNITS = REPO / "deploy" / "systemd"
DOCKERFILE = REPO / "Dockerfile"
SERVICE_DOC = REPO / "docs" / "service.md"
INSTALLED_NEWSMON = "/opt/newsmon/venv/bin/newsmon"  # where the units expect newsmon
SERVICES = {"newsmon.service": "run", "newsmon-worker@.service": "worker"}
ABSENT_TOOL = "is not a service this machine guarantees, so this skips even with CI=true"


# --- reading the files ----------------------------------------------------------------------------

def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: section -> key -> values in order (a key may repeat; an empty assignment
    resets the list, as systemd does). Comments start with # or ;, a trailing backslash continues."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line[0] in "#;"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"{path.name}: {line!r} before any [Section]"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a Key=Value line: {line!r}"
        values = current.setdefault(key.strip(), [])
        if value.strip():
            values.append(value.strip())
        else:
            values.clear()
    return sections


def one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be set once, is {values}"
    return values[0]


_SPAN_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
               "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400}


def systemd_seconds(span: str) -> float:
    """A systemd time span ("90s", "1min 30s", "15min", a bare number of seconds) in seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", span):
        return float(span)
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", span)
    assert parts and "".join(f"{n}{u}" for n, u in parts) == span.replace(" ", ""), f"not a time span: {span!r}"
    return sum(float(n) * _SPAN_UNITS[u] for n, u in parts)


def go_seconds(duration: str) -> float:
    """A Go duration as Docker takes it ("5m", "60s", "1h30m") in seconds."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(n) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3}[u] for n, u in parts)


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order: continuation lines joined, comment lines dropped."""
    found, pending = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def healthcheck() -> tuple[dict[str, str], str]:
    """The Dockerfile's HEALTHCHECK: its --options and its CMD (shell form)."""
    (args,) = [rest for keyword, rest in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    options, sep, command = args.partition(" CMD ")
    assert sep, f"HEALTHCHECK without CMD: {args!r}"
    parsed = dict(opt.removeprefix("--").split("=", 1) for opt in options.split())
    return parsed, command.strip()


# --- the systemd units ------------------------------------------------------------------------------

def stop_grace_default() -> float:
    from monitor.config.model import CrawlConfig

    return float(CrawlConfig().stop_grace)


@pytest.mark.parametrize(("name", "command"), SERVICES.items())
def test_service_units_run_newsmon_restart_on_failure_and_reload_with_sighup(name, command):
    unit = read_unit(UNITS / name)
    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[0] == INSTALLED_NEWSMON and argv[-1] == command
    assert argv[1:-1] == ["--config", "/etc/newsmon"]
    assert one(unit, "Service", "ExecReload") == "/bin/kill -HUP $MAINPID"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert systemd_seconds(one(unit, "Service", "RestartSec")) >= 1
    assert one(unit, "Service", "RestartPreventExitStatus") == "2"  # a config error: no restart fixes it
    assert one(unit, "Service", "Type") == "exec"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"

    # SIGTERM to newsmon alone (its crawl workers and extraction processes are its business), and
    # time for crawl.stop_grace, then for a worker to hand back its checks (LEAVE_WAIT), before SIGKILL.
    from crawler.redis_feed import LEAVE_WAIT

    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    assert one(unit, "Service", "KillMode") == "mixed"
    stop_timeout = systemd_seconds(one(unit, "Service", "TimeoutStopSec"))
    assert stop_timeout >= stop_grace_default() + LEAVE_WAIT + 30 >= stop_grace_default() + 60


def test_the_daemon_unit_migrates_before_it_runs_and_workers_do_not():
    daemon = read_unit(UNITS / "newsmon.service")
    assert shlex.split(one(daemon, "Service", "ExecStartPre")) == [INSTALLED_NEWSMON, "--config", "/etc/newsmon", "init"]
    assert systemd_seconds(one(daemon, "Service", "TimeoutStartSec")) >= 600  # a long migration
    worker = read_unit(UNITS / "newsmon-worker@.service")
    assert "ExecStartPre" not in worker["Service"]
    assert "%i" in one(worker, "Unit", "Description") and "%i" in one(worker, "Service", "SyslogIdentifier")


@pytest.mark.parametrize("name", [*SERVICES, "newsmon-check.service"])
def test_units_run_as_a_dedicated_user_sandboxed_with_the_data_directory_writable(name):
    unit = read_unit(UNITS / name)
    service = unit["Service"]
    assert one(unit, "Service", "User") == one(unit, "Service", "Group") == "newsmon"
    assert one(unit, "Service", "EnvironmentFile").lstrip("-") == "/etc/newsmon/newsmon.env"
    assert "PYTHONUNBUFFERED=1" in service["Environment"]
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                       "PrivateTmp": "yes", "PrivateDevices": "yes", "ProtectKernelTunables": "yes",
                       "ProtectKernelModules": "yes", "ProtectControlGroups": "yes", "RestrictSUIDSGID": "yes",
                       "LockPersonality": "yes", "SystemCallFilter": "@system-service"}.items():
        assert one(unit, "Service", key) == value, key
    assert service["CapabilityBoundingSet"] == []  # set to nothing: no capabilities at all
    assert "MemoryDenyWriteExecute" not in service  # ctypes/cffi callbacks need W+X memory

    # ProtectSystem=strict: the only writable place is the state directory, which is also where
    # newsmon works, so the default sqlite:///data/newsmon.sqlite3 (and its -journal/-wal) can be written.
    state = Path("/var/lib") / one(unit, "Service", "StateDirectory")
    writable = [Path(p.lstrip("-")) for v in service["ReadWritePaths"] for p in v.split()]
    assert writable == [state]
    working = Path(one(unit, "Service", "WorkingDirectory"))
    assert working == state or state in working.parents


def test_the_env_file_example_keeps_a_sqlite_archive_where_the_units_can_write():
    lines = [line for line in (UNITS / "newsmon.env.example").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    settings = dict(line.split("=", 1) for line in lines)
    assert set(settings) == {"NEWSMON_DATABASE_URL"}  # every secret is left for the operator to fill in
    url = settings["NEWSMON_DATABASE_URL"]
    assert url.startswith("sqlite:////")
    writable = Path(one(read_unit(UNITS / "newsmon.service"), "Service", "ReadWritePaths"))
    assert writable in Path(url.removeprefix("sqlite:///")).parents


def test_the_check_timer_runs_the_check_service():
    check = read_unit(UNITS / "newsmon-check.service")
    assert one(check, "Service", "Type") == "oneshot"
    assert shlex.split(one(check, "Service", "ExecStart")) == [
        INSTALLED_NEWSMON, "--config", "/etc/newsmon", "status", "--check"]
    timer = read_unit(UNITS / "newsmon-check.timer")
    assert systemd_seconds(one(timer, "Timer", "OnUnitActiveSec")) <= 15 * 60
    assert one(timer, "Install", "WantedBy") == "timers.target"


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        pytest.skip(f"systemd-analyze not found: the unit files are only parsed. systemd {ABSENT_TOOL}")
    return found


def _units_with_newsmon_here(folder: Path) -> list[Path]:
    """Copies of the units with ExecStart's binary replaced by this checkout's newsmon: verify checks
    that every command it names exists and is executable."""
    copies = []
    for unit in sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.timer")):
        copy = folder / unit.name
        copy.write_text(unit.read_text(encoding="utf-8").replace(INSTALLED_NEWSMON, newsmon_executable()),
                        encoding="utf-8")
        copies.append(copy)
    return copies


def _verify(systemd_analyze: str, units: list[Path], folder: Path) -> tuple[int, list[str]]:
    result = subprocess.run([systemd_analyze, "verify", *map(str, units)], capture_output=True, text=True,
                            timeout=120, cwd=folder)
    # On a machine that runs systemd, verify may also complain about units of its own: only ours count.
    ours = [line for line in (result.stdout + result.stderr).splitlines() if "newsmon" in line or str(folder) in line]
    return result.returncode, ours


def test_systemd_analyze_verify_accepts_the_units(tmp_path):
    systemd_analyze = _systemd_analyze()
    units = _units_with_newsmon_here(tmp_path)
    assert {u.name for u in units} >= {"newsmon.service", "newsmon-worker@.service", "newsmon-check.service",
                                       "newsmon-check.timer"}
    returncode, complaints = _verify(systemd_analyze, units, tmp_path)
    assert returncode == 0 and complaints == [], "\n".join(complaints)

    # The check is not vacuous: a misspelt key is a warning (exit 0), and a missing binary an error.
    bad = tmp_path / "bad"
    bad.mkdir()
    daemon = bad / "newsmon.service"
    daemon.write_text((tmp_path / "newsmon.service").read_text().replace("ProtectHome=", "ProtectHomes="))
    worker = bad / "newsmon-worker@.service"
    worker.write_text((UNITS / "newsmon-worker@.service").read_text())  # /opt/newsmon/... does not exist here
    returncode, complaints = _verify(systemd_analyze, [daemon, worker], bad)
    assert any("ProtectHomes" in line for line in complaints), complaints
    if not Path(INSTALLED_NEWSMON).exists():
        assert returncode != 0 and any("not executable" in line for line in complaints), complaints


@pytest.mark.parametrize("name", [*SERVICES, "newsmon-check.service"])
def test_systemd_analyze_security_rates_the_units_ok(tmp_path, name):
    systemd_analyze = _systemd_analyze()
    (unit,) = [u for u in _units_with_newsmon_here(tmp_path) if u.name == name]
    if name.endswith("@.service"):
        unit = unit.rename(unit.with_name(name.replace("@.", "@1.")))
    # --threshold is in tenths: 20 is an exposure of 2.0, the top of systemd's "OK".
    result = subprocess.run([systemd_analyze, "security", "--offline=yes", "--threshold=20", str(unit)],
                            capture_output=True, text=True, timeout=60)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip(f"this systemd-analyze has no --offline (systemd < 250): {result.stderr.strip()}")
    overall = [line for line in result.stdout.splitlines() if "Overall exposure level" in line]
    assert result.returncode == 0 and overall, result.stdout[-3000:] + result.stderr


def _syscall_groups(systemd_analyze: str) -> dict[str, list[str]]:
    listing = subprocess.run([systemd_analyze, "syscall-filter"], capture_output=True, text=True, timeout=60,
                             check=True).stdout
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in listing.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.strip() and not line.strip().startswith("#") and current is not None:
            current.append(line.strip())
    return groups


def _expand(groups: dict[str, list[str]], names: list[str]) -> set[str]:
    found: set[str] = set()
    for name in names:
        found |= _expand(groups, groups[name]) if name.startswith("@") else {name}
    return found


@pytest.mark.slow
def test_the_syscall_filter_and_address_families_allow_everything_newsmon_does(tmp_path):
    """strace a real crawl of the replay site (Scrapy, extraction processes, the archive writer),
    `newsmon init` and `newsmon status --check`: every system call they make is in the units'
    SystemCallFilter, and every socket family in RestrictAddressFamilies."""
    systemd_analyze = _systemd_analyze()
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip(f"strace not found: the syscall filter is not compared with what newsmon calls. strace {ABSENT_TOOL}")
    probe = subprocess.run([strace, "-f", "-o", os.devnull, "true"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here (ptrace refused: {probe.stderr.strip()}); tracing {ABSENT_TOOL}")
    service = read_unit(UNITS / "newsmon.service")["Service"]
    (allowed,) = service["SystemCallFilter"]
    assert not allowed.startswith("~")  # an allow list
    allowed_calls = _expand(_syscall_groups(systemd_analyze), allowed.split())
    families = set(service["RestrictAddressFamilies"][0].split())

    with ReplayEnvironment(f"sqlite:///{tmp_path / 'archive.sqlite3'}", config_dir=DEMO_CONFIG) as world:
        for command in (["init"], ["crawl"], ["status", "--check"]):
            trace = tmp_path / f"trace.{command[0]}"
            result = subprocess.run([strace, "-f", "-qq", "-o", str(trace), newsmon_executable(), *command],
                                    env=world.env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"

    calls: set[str] = set()
    used_families: set[str] = set()
    for trace in tmp_path.glob("trace.*"):
        for line in trace.read_text(errors="replace").splitlines():
            match = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
            if match:
                calls.add(match.group(1))
            used_families.update(re.findall(r"\bsocket(?:pair)?\((AF_[A-Z0-9]+)", line))
    assert {"prctl", "setsid", "execve", "sendto", "recvfrom"} <= calls  # the trace saw a real crawl
    assert calls - allowed_calls == set()
    assert used_families and used_families - families == set()


# --- the Docker image ---------------------------------------------------------------------------------

def test_the_dockerfile_has_a_healthcheck_running_newsmon_status_check():
    options, command = healthcheck()
    assert "newsmon status --check" in command
    assert set(options) == {"interval", "timeout", "start-period", "retries"}
    assert go_seconds(options["interval"]) >= 60  # each check starts Python: not every few seconds
    assert 10 <= go_seconds(options["timeout"]) < go_seconds(options["interval"])
    # The first checks of sources (each up to crawl.check_timeout) happen before failures count.
    from monitor.config.model import CrawlConfig

    assert go_seconds(options["start-period"]) >= CrawlConfig().check_timeout
    assert int(options["retries"]) >= 2
    # docs/service.md shows the same line, and explains the numbers.
    joined = " ".join(f"--{k}={v}" for k, v in options.items())
    doc = re.sub(r"\s*\\\n\s*", " ", SERVICE_DOC.read_text(encoding="utf-8"))
    assert f"HEALTHCHECK {joined} CMD {command}" in doc


def test_the_image_forwards_signals_and_runs_init_then_the_daemon():
    instructions = dict(dockerfile_instructions())
    assert instructions["ENTRYPOINT"] == '["/usr/bin/tini", "--"]'
    assert instructions["STOPSIGNAL"] == "SIGTERM"
    assert instructions["CMD"] == '["sh", "-c", "newsmon init && exec newsmon run"]'
    assert instructions["USER"] == "newsmon"


def _status_env(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NEWSMON_DATABASE_URL", "NEWSMON_CONFIG")}
    env["PATH"] = f"{Path(newsmon_executable()).parent}{os.pathsep}{env.get('PATH', '')}"
    env["NEWSMON_CONFIG"] = str(config)  # as the image sets it
    return env


def status_check(config: Path) -> subprocess.CompletedProcess[str]:
    """`newsmon --config DIR status --check`, the real command."""
    return subprocess.run([newsmon_executable(), "--config", str(config), "status", "--check"],
                          capture_output=True, text=True, timeout=120, env=_status_env(config))


def docker_healthcheck(config: Path) -> subprocess.CompletedProcess[str]:
    """The Dockerfile's HEALTHCHECK command, run as Docker runs a shell-form CMD: /bin/sh -c."""
    _options, command = healthcheck()
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120,
                          env=_status_env(config))


def _fail_source(config: Path, source: str, times: int) -> None:
    """Record failed crawls of `source` as the crawler does when a check fails."""
    from monitor.config import load_config
    from monitor.store import repo
    from monitor.store.session import make_engine, session_factory, session_scope

    cfg = load_config(config, {})
    engine = make_engine(cfg.database_url)
    try:
        sessions = session_factory(engine)
        for n in range(times):
            with session_scope(sessions) as session:
                repo.record_source_failure(session, source, f"feed http://127.0.0.1:9/feed.xml: connection refused ({n})")
    finally:
        engine.dispose()


@pytest.fixture
def health_config(tmp_path) -> Path:
    return write_config(tmp_path / "config", {"database_url": f"sqlite:///{tmp_path / 'archive.sqlite3'}"},
                        {"site": {"kind": "feed", "start_urls": ["http://127.0.0.1:9/feed.xml"]}})


def test_healthcheck_command_passes_on_a_fresh_archive_and_fails_when_a_source_keeps_failing(health_config):
    # Before `newsmon init` (a container's first seconds, in the start period): not healthy.
    for result in (status_check(health_config), docker_healthcheck(health_config)):
        assert result.returncode == 1 and "newsmon init" in result.stdout + result.stderr

    init = subprocess.run([newsmon_executable(), "--config", str(health_config), "init"], capture_output=True,
                          text=True, timeout=120, env=_status_env(health_config))
    assert init.returncode == 0, init.stderr
    fresh, fresh_hc = status_check(health_config), docker_healthcheck(health_config)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert fresh_hc.returncode == 0 and "needs attention" not in fresh_hc.stdout
    assert "schedule: 1 sources" in fresh_hc.stdout  # the end of the table is what Docker keeps

    _fail_source(health_config, "site", times=3)
    failing, failing_hc = status_check(health_config), docker_healthcheck(health_config)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "site: " in failing.stdout.partition("needs attention")[2]
    assert failing_hc.returncode == 1
    # What Docker keeps of the output (its first 4 KB) is the end of the table: the list of problems.
    assert "site: " in failing_hc.stdout.partition("needs attention")[2]
    assert len(failing_hc.stdout.splitlines()) <= 25


def test_healthcheck_command_reports_a_broken_config_as_unhealthy_not_with_dockers_reserved_2(health_config):
    assert subprocess.run([newsmon_executable(), "--config", str(health_config), "init"], capture_output=True,
                          timeout=120, env=_status_env(health_config)).returncode == 0
    (health_config / "newsmon.yaml").write_text((health_config / "newsmon.yaml").read_text() + "schedul: {}\n")
    broken = status_check(health_config)
    assert broken.returncode == 2  # the CLI's config error
    assert "newsmon.yaml: schedul: unknown key" in broken.stderr
    broken_hc = docker_healthcheck(health_config)
    assert broken_hc.returncode == 1  # Docker reserves 2; every failure is 1
    assert "newsmon.yaml: schedul: unknown key" in broken_hc.stdout


def _docker() -> str:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip(f"docker not found: the image is not built. A Docker engine {ABSENT_TOOL}")
    info = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          timeout=60)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        pytest.skip(f"no Docker engine answers `docker info` ({reason}): the image is not built. "
                    f"A Docker engine {ABSENT_TOOL}")
    return docker


@pytest.mark.slow
def test_the_image_builds_turns_healthy_reloads_on_sighup_and_stops_cleanly(tmp_path):
    docker = _docker()
    tag = f"newsmon-test:{uuid.uuid4().hex[:8]}"
    name = f"newsmon-test-{uuid.uuid4().hex[:8]}"
    config = write_config(tmp_path / "config", {"schedule": {"interval": "15m"}})  # no sources: nothing to fail
    for path in [config, *config.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by the image's uid 10001
    build = subprocess.run([docker, "build", "-t", tag, str(REPO)], capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    try:
        run = subprocess.run([docker, "run", "-d", "--name", name, "--stop-timeout", "90",
                              "--health-interval", "2s", "--health-start-period", "0s",
                              "-v", f"{config}:/config:ro", tag], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr

        def inspect(template: str) -> str:
            return subprocess.run([docker, "inspect", "--format", template, name], capture_output=True,
                                  text=True, timeout=60).stdout.strip()

        deadline = time.monotonic() + 180
        while inspect("{{.State.Health.Status}}") != "healthy" and time.monotonic() < deadline:
            time.sleep(1)
        assert inspect("{{.State.Health.Status}}") == "healthy", inspect("{{json .State.Health}}")

        _options, command = healthcheck()
        inside = subprocess.run([docker, "exec", name, "sh", "-c", command], capture_output=True, text=True,
                                timeout=120)
        assert inside.returncode == 0, inside.stdout + inside.stderr

        assert subprocess.run([docker, "kill", "--signal", "HUP", name], timeout=60).returncode == 0
        deadline = time.monotonic() + 60
        logs = ""
        while "config reload" not in logs and time.monotonic() < deadline:
            time.sleep(1)
            logs = subprocess.run([docker, "logs", name], capture_output=True, text=True, timeout=60).stdout
        assert "config reload" in logs, logs[-3000:]

        stop = subprocess.run([docker, "stop", "-t", "90", name], capture_output=True, text=True, timeout=180)
        assert stop.returncode == 0, stop.stderr
        assert inspect("{{.State.ExitCode}}") == "0", inspect("{{json .State}}")
    finally:
        subprocess.run([docker, "rm", "-f", name], capture_output=True, timeout=120)
        subprocess.run([docker, "rmi", "-f", tag], capture_output=True, timeout=120)
