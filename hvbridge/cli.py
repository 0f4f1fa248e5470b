"""The `hvbridge` command line.

Modules that pull in Nornir, paramiko, rich or pydantic are imported by the commands
that use them, not here: `hvbridge --version` and `--help` stay instant.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from click.core import ParameterSource

from hvbridge import __version__, trace
from hvbridge.errors import HvbridgeError, InputError
from hvbridge.interrupt import Interrupt
from hvbridge.status import EXIT_INPUT, EXIT_SIGINT, Status

if TYPE_CHECKING:
    from hvbridge.lab.lifecycle import Lab
    from hvbridge.lab.state import LabState
    from hvbridge.lab.vm import VmLab
    from hvbridge.report import ReportPaths
    from hvbridge.runner import RunOutcome, RunRequest

DEMO_COMMANDS = (
    "brctl show",
    "ip -4 -br addr show",
    "virsh net-list --all",
    "virsh list --all",
)
DEMO_RUNBOOK = "runbooks/bridge.yaml"


def _lab(ctx: click.Context) -> Lab:
    from hvbridge.lab.lifecycle import Lab

    return Lab(ctx.obj["state_dir"])


class _Main(click.Group):
    """The command group, exiting as the exit table says: 1 for every input or usage
    error, click's own among them (click exits 2, which here means "changed")."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> NoReturn:
        # Always standalone (the command's own process, or CliRunner): click's errors are
        # caught here instead of exiting with click's codes.
        del standalone_mode
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_INPUT)
        except click.Abort as exc:
            # Ctrl-C at a prompt, before anything ran.
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_SIGINT if isinstance(exc.__cause__, KeyboardInterrupt) else EXIT_INPUT)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hvbridge")
@click.option(
    "--project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path.cwd,
    show_default="the current directory",
    help="Project directory holding tasks/, templates/, runbooks/ and the lab's .lab/.",
)
@click.option(
    "--lab-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HVBRIDGE_LAB_DIR",
    help="Where the lab keeps its keys, known_hosts, inventory and state"
    " [default: PROJECT/.lab; env HVBRIDGE_LAB_DIR].",
)
@click.pass_context
def main(ctx: click.Context, project: Path, lab_dir: Path | None) -> None:
    """Put KVM guests on bridged networking across a hypervisor fleet."""
    ctx.ensure_object(dict)
    ctx.obj["project"] = project
    ctx.obj["state_dir"] = lab_dir or project / ".lab"


EXIT_CODES_HELP = """\b
Exit status, bits added together:
  0  nothing changed          2  something changed
  4  a host failed            8  a host was rolled back
  16 the failure budget stopped the rollout (later batches not started)
  1  an input or usage error: nothing was touched
  130/143  SIGINT/SIGTERM stopped the run between steps (the bits are in the report)
\b
--limit terms (comma-separated; plain terms add, &term intersects, !term removes):
  hv01,hv02   hv0*   @rack1   platform=el6   libvirt.edit_mode=file   @lab,!hv03
\b
Every run keeps its state (after every step) and a JSON-lines event log in
STATE_DIR/runs/RUN-ID/ (default PROJECT/.hvbridge); --retry-failed runs the hosts
whose newest run of the same runbook on the same inventory did not end ok or
changed (failed, rolled back, interrupted, not run, or unfinished when the
controller died), also those a limited retry left out."""


REPORT_EPILOG = """\b
Exit status:
  0  every host's facts were read
  4  a host could not be read (unreachable, refused, a command failed)
  1  an input or usage error: nothing was connected to
\b
--limit terms (comma-separated; plain terms add, &term intersects, !term removes):
  hv01,hv02   hv0*   @rack1   platform=el6   libvirt.edit_mode=file   @lab,!hv03"""

INVENTORY_ENV = "HVBRIDGE_INVENTORY"


reports_option = click.option(
    "--reports-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where reports go, one directory per run [default: PROJECT/reports].",
)
state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where runs keep their state and event logs [default: PROJECT/.hvbridge].",
)
nornir_output_option = click.option(
    "--nornir-output",
    is_flag=True,
    help="Also print Nornir's results with nornir_utils' print_result.",
)
debug_option = click.option(
    "--debug",
    is_flag=True,
    help="Show the run's trace on stderr as it is written to STATE_DIR/runs/RUN-ID/trace.log:"
    " every connection, command (exit status, duration, stderr) and SFTP operation.",
)


def _debug(enabled: bool) -> AbstractContextManager[None]:
    return trace.to_stderr() if enabled else nullcontext()


REPORTS_DIR = "reports"
FACTS_RUNBOOK = "runbooks/facts.yaml"


def _default_inventory(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """The default inventory is PROJECT/inventory; when it has no hosts.yaml (as in
    hvbridge's own repository) say how to give one, rather than what is missing."""
    if ctx.get_parameter_source(param.name or "") is not ParameterSource.DEFAULT:
        return value
    project: Path = (ctx.find_object(dict) or {}).get("project", Path.cwd())
    path = value if value.is_absolute() else project / value
    if not (path / "hosts.yaml").is_file():
        raise click.ClickException(
            f"no inventory: none given, and the default {path} has no hosts.yaml. Give one"
            f" with -i DIR (a directory with hosts.yaml, groups.yaml, defaults.yaml) or"
            f" {INVENTORY_ENV}=DIR; e.g. -i inventory/seed, or -i .lab/inventory after"
            f" `hvbridge lab up`."
        )
    return path


inventory_option = click.option(
    "-i",
    "--inventory",
    "inventory_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("inventory"),
    envvar=INVENTORY_ENV,
    show_envvar=True,
    show_default="PROJECT/inventory",
    callback=_default_inventory,
    help="Directory with hosts.yaml, groups.yaml and defaults.yaml.",
)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("runbook", type=click.Path(dir_okay=False, path_type=Path))
@inventory_option
@click.option(
    "--limit",
    multiple=True,
    metavar="PATTERN",
    help="Only the hosts PATTERN selects (see below); repeatable.",
)
@click.option("--check", is_flag=True, help="Render and diff only; change nothing on any host.")
@click.option("--diff", "show_diff", is_flag=True, help="Show the diff of every changed file.")
@click.option(
    "--workers",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Hosts of a batch worked on at once.",
)
@click.option(
    "--serial",
    metavar="SIZES",
    help="Batch sizes, e.g. 1,25% (a canary, then a quarter at a time; the last"
    " size repeats). Overrides the runbook's serial. Default: one batch.",
)
@click.option(
    "--max-fail-percentage",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Stop before the next batch when more than PCT% of a batch failed."
    " Overrides the runbook's. Default: never stop.",
)
@click.option(
    "--step-timeout",
    type=click.FloatRange(1, 86400),
    default=900.0,
    show_default=True,
    help="Seconds a step may take on a host (a step's own"
    " `timeout` in the runbook wins); a host that overruns fails alone.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Only the hosts that did not end ok or changed the last time they ran (see below).",
)
@click.option(
    "--break-lock",
    is_flag=True,
    help="Remove another run's lock on the hosts first (say whose it was).",
)
@click.option(
    "--list-hosts",
    is_flag=True,
    help="Only list the hosts the run would touch (after --limit and --retry-failed),"
    " batch by batch, and exit 0; nothing is connected to.",
)
@state_dir_option
@reports_option
@nornir_output_option
@debug_option
@click.option(
    "--force", is_flag=True, help="Restart the network even when no network file changed."
)
@click.option(
    "--ask-pass",
    is_flag=True,
    help="Prompt for the SSH password (else $HVBRIDGE_SSH_PASSWORD; keys are tried first).",
)
@click.pass_context
def run(
    ctx: click.Context,
    runbook: Path,
    inventory_dir: Path,
    limit: tuple[str, ...],
    check: bool,
    show_diff: bool,
    workers: int,
    serial: str | None,
    max_fail_percentage: float | None,
    step_timeout: float,
    retry_failed: bool,
    break_lock: bool,
    state_dir: Path | None,
    reports_dir: Path | None,
    nornir_output: bool,
    debug: bool,
    force: bool,
    ask_pass: bool,
    list_hosts: bool,
) -> None:
    """Run RUNBOOK (steps naming tasks in tasks/) on the inventory's hosts, in batches.

    Everything is validated before any host is touched. Each host takes a lock,
    runs the steps in order, stops at its first failure, and releases the lock;
    the other hosts go on. Progress is live on a terminal, one line per event
    otherwise.

    Ctrl-C (SIGINT) or SIGTERM: no new step starts, the steps under way finish (a
    guarded restart confirms or reverts), locks are released, state and reports
    written, exit 130 or 143. A second one exits at once, naming the hosts that may
    still hold a lock.
    """
    from hvbridge.runner import RunRequest

    project: Path = ctx.obj["project"]
    password = None if list_hosts else _password(ask_pass)
    request = RunRequest(
        project=project,
        runbook=_runbook(project, runbook),
        inventory=_in_project(project, inventory_dir),
        limit=limit,
        check=check, force=force, workers=workers, password=password,
        serial=tuple(s.strip() for s in serial.split(",")) if serial else None,
        max_fail_percentage=max_fail_percentage, step_timeout=step_timeout,
        retry_failed=retry_failed, break_lock=break_lock,
        state_dir=_in_project(project, state_dir) if state_dir else None,
    )  # fmt: skip
    if list_hosts:
        _list_hosts(request)
        return
    _run_and_finish(request, debug, reports_dir, nornir_output, show_diff or check)


def _run_and_finish(
    request: RunRequest,
    debug: bool,
    reports_dir: Path | None,
    nornir_output: bool,
    show_diff: bool,
) -> None:
    """Run the request with live output, SIGINT/SIGTERM handled; then print, report, exit."""
    from hvbridge.events import console_sink
    from hvbridge.runner import run as run_runbook

    _quiet_libraries()
    interrupt = Interrupt()
    with interrupt.handling():
        with _errors(), _debug(debug):
            sink = console_sink(sys.stdout, sys.stdout.isatty)
            outcome = run_runbook(request, sink, interrupt)
        _finish(outcome, request.project, request.inventory, reports_dir, nornir_output, show_diff)


def _list_hosts(request: RunRequest) -> None:
    """What `run --list-hosts` prints: the hosts in batch order, one per line under
    their batch. Everything is checked as for a run; nothing is connected to."""
    from hvbridge.runner import prepare

    with _errors():
        prepared = prepare(request)
    batches = prepared.strategy.batches(prepared.names)
    if prepared.retrying:
        click.echo(f"retrying run {prepared.retrying}: the hosts that did not end ok")
    for number, batch in enumerate(batches, 1):
        click.echo(f"batch {number}/{len(batches)}: {len(batch)} host(s)")
        for name in batch:
            click.echo(f"  {name}")


def _finish(
    outcome: RunOutcome,
    project: Path,
    inventory: Path,
    reports_dir: Path | None,
    nornir_output: bool,
    show_diff: bool,
) -> None:
    """Print the run, write its reports, exit with its status."""
    from hvbridge.output import print_nornir_results, print_run

    if nornir_output:
        print_nornir_results(outcome.results)
    print_run(outcome, click.echo, show_diff=show_diff)
    _say_interrupted(outcome)
    try:
        paths = _write_reports(outcome, project, inventory, reports_dir)
    except (OSError, ValueError, HvbridgeError) as exc:
        # Hosts were touched: the exit status stays the run's, not "input error".
        click.secho(f"error: the reports could not be written: {exc}", fg="red", err=True)
    else:
        click.echo(f"reports: {paths.html}  ({paths.directory})")
    sys.exit(outcome.exit_code)


def _say_interrupted(outcome: RunOutcome) -> None:
    if outcome.interrupted is None:
        return
    stopped = sorted(n for n, h in outcome.hosts.items() if h.status is Status.INTERRUPTED)
    never = sorted(n for n, h in outcome.hosts.items() if h.status is Status.NOT_RUN)
    click.echo(
        f"INTERRUPTED by {outcome.interrupted}: steps under way finished, no other started;"
        f" interrupted between steps: {', '.join(stopped) or 'none'};"
        f" not run: {', '.join(never) or 'none'}; status bits {outcome.bits}"
        " (--retry-failed runs the hosts that did not end ok)"
    )


@main.command(epilog=REPORT_EPILOG)
@inventory_option
@click.option(
    "--limit", multiple=True, metavar="PATTERN", help="Only the hosts PATTERN selects (see below)."
)
@click.option(
    "--workers",
    type=click.IntRange(1, 500),
    default=20,
    show_default=True,
    help="Hosts read at once.",
)
@state_dir_option
@reports_option
@nornir_output_option
@debug_option
@click.option("--ask-pass", is_flag=True, help="Prompt for the SSH password.")
@click.pass_context
def report(
    ctx: click.Context,
    inventory_dir: Path,
    limit: tuple[str, ...],
    workers: int,
    state_dir: Path | None,
    reports_dir: Path | None,
    nornir_output: bool,
    debug: bool,
    ask_pass: bool,
) -> None:
    """Collect facts from every host, read-only, and write the reports.

    Runs runbooks/facts.yaml (brctl show, ip, libvirt networks and guests) and
    takes no lock: nothing is written on any host. Reports go to
    REPORTS_DIR/RUN-ID/ as for `run`.
    """
    from hvbridge.runner import RunRequest

    project: Path = ctx.obj["project"]
    password = _password(ask_pass)
    request = RunRequest(
        project=project, runbook=_runbook(project, Path(FACTS_RUNBOOK)),
        inventory=_in_project(project, inventory_dir), limit=limit, workers=workers,
        password=password, read_only=True,
        state_dir=_in_project(project, state_dir) if state_dir else None,
    )  # fmt: skip
    _run_and_finish(request, debug, reports_dir, nornir_output, False)


def _password(ask_pass: bool) -> str | None:
    """A site password from a prompt or the environment; never from a file or a log."""
    from hvbridge.ssh import password_from_env

    return click.prompt("SSH password", hide_input=True) if ask_pass else password_from_env()


def _write_reports(
    outcome: RunOutcome, project: Path, inventory: Path, reports_dir: Path | None
) -> ReportPaths:
    from hvbridge.report import write_reports

    return write_reports(
        outcome, _in_project(project, reports_dir or Path(REPORTS_DIR)), inventory=str(inventory),
        templates=project / "templates", planned_steps=outcome.planned_steps,
        started=datetime.fromtimestamp(outcome.started, tz=UTC),
        # The run's own (reading the inventory again was 3 ms of CPU per host).
        platforms=outcome.platforms if outcome.platforms is not None else _platforms(inventory),
    )  # fmt: skip


def _platforms(inventory: Path) -> dict[str, str]:
    """Each host's platform, as Nornir resolves it (host, then its groups, then the
    defaults); a host that names none is the default platform. The run has read and
    checked this inventory already; if it is gone since, the reports say no platform
    rather than fail."""
    from nornir.plugins.inventory.simple import SimpleInventory

    from hvbridge import platforms

    files = {f"{kind}_file": str(inventory / f"{kind}s.yaml") for kind in ("host", "group")}
    try:
        loaded = SimpleInventory(**files, defaults_file=str(inventory / "defaults.yaml")).load()
    except OSError:
        return {}
    return {name: host.platform or platforms.DEFAULT for name, host in loaded.hosts.items()}


def _in_project(project: Path, path: Path) -> Path:
    return path if path.is_absolute() else project / path


def _runbook(project: Path, path: Path) -> Path:
    """The project's runbook, else the shipped one of that name (hvbridge.runbook.locate)."""
    from hvbridge.runbook import locate

    return locate(project, path)


def _quiet_libraries() -> None:
    # Nornir logs each failed task with a traceback, paramiko each refused channel while a
    # host is away: to the run's trace.log (and stderr with --debug), not the terminal.
    trace.keep_libraries_off_the_terminal()


@main.group()
def inventory() -> None:
    """Check and show the inventory (nothing is connected to)."""


@inventory.command("validate")
@inventory_option
def inventory_validate(inventory_dir: Path) -> None:
    """Validate every host; list every problem with its file, host and field."""
    from hvbridge.inventory import load_inventory

    with _errors():
        loaded = load_inventory(inventory_dir)
    click.echo(f"{inventory_dir}: {len(loaded.models)} host(s) valid")


@inventory.command("show")
@click.argument("host")
@inventory_option
def inventory_show(host: str, inventory_dir: Path) -> None:
    """HOST's resolved data and connection settings, secrets masked."""
    import yaml

    from hvbridge.inventory import load_inventory, masked

    with _errors():
        loaded = load_inventory(inventory_dir)
        if host not in loaded.inventory.hosts:
            raise InputError(f"no host {host!r} in {inventory_dir}")
        shown = masked(loaded.inventory.hosts[host])
    click.echo(yaml.safe_dump(shown, sort_keys=False).rstrip())


@main.command("tasks")
@click.argument("names", nargs=-1, metavar="[MODULE|MODULE.FUNCTION]...")
@click.pass_context
def tasks_command(ctx: click.Context, names: tuple[str, ...]) -> None:
    """List the tasks a runbook can name (PROJECT/tasks/), each with its arguments:
    type, default or `(required)`, and range. Only those NAMES when given.

    A runbook step names a task as MODULE.FUNCTION and sets its arguments under
    `args:`; see docs/runbooks.md."""
    from hvbridge.tasklist import render, tasks

    with _errors():
        found = tasks(ctx.obj["project"] / "tasks")
        if names:
            wanted = [t for t in found if t.name in names or t.name.split(".")[0] in names]
            missing = [n for n in names if not any(n in (t.name, t.name.split(".")[0])
                                                   for t in found)]  # fmt: skip
            if missing:
                raise InputError(
                    f"no task {', '.join(map(repr, missing))}; have:"
                    f" {', '.join(t.name for t in found)}"
                )
            found = wanted
    click.echo(render(found))


if TYPE_CHECKING:
    _StrChoice = click.Choice[str]
else:  # click.Choice is generic only from click 8.4 on; pyproject allows 8.1.
    _StrChoice = click.Choice


class _SshProfile(_StrChoice):
    """The lab's SSH profiles (hvbridge.lab.hostfiles), read when `lab up` checks or shows
    them: importing this module, as the run path does, never imports the lab."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from hvbridge.lab.hostfiles import SSH_PROFILES

        return SSH_PROFILES

    @choices.setter
    def choices(self, _: object) -> None:
        """click.Choice sets its choices when built; these are the lab's, always."""


@main.group()
def lab() -> None:
    """A lab of real EL6- and EL7-style hypervisors in namespaces on this machine (root)."""


PLATFORM_HELP = (
    # Literal, not from hvbridge.lab.fleet: the run path must not import the lab
    # (tests/unit/test_lab_cli_platform.py checks the text against the lab's own lists).
    "Each hypervisor's platform: one of el6, el7, el8, el9, debian, proxmox, ubuntu for all of"
    " them, or a mix in host order, e.g. el6:2,el7:2 (hv01-hv02 el6, hv03-hv04 el7; --hosts"
    " may then be left out, or must equal the sum). el7 hosts have ens3 and EL7's systemctl; el8"
    " and el9 hosts real NetworkManager, eth0 on a keyfile profile; debian hosts the real"
    " ifupdown, eth0 on a stanza in /etc/network/interfaces; proxmox hosts ifupdown2, eno1"
    " likewise; ubuntu hosts netplan with systemd-networkd, enp1s0 in a netplan file."
)


@lab.command("up")
@click.option(
    "--hosts",
    "count",
    type=click.IntRange(1, 1000),
    default=None,
    help="Number of hypervisors (hv01..hvNN). [default: 3, or the --platform mix's sum]",
)
@click.option("--platform", "platform_spec", default="el6", show_default=True, help=PLATFORM_HELP)
@click.option(
    "--direct",
    is_flag=True,
    help="Put the hypervisors on the controller's switch instead of behind the jump host.",
)
@click.option(
    "--libvirt/--no-libvirt",
    default=True,
    show_default=True,
    help="Run libvirtd with the NAT network `default` and guest v1 on each hypervisor.",
)
@click.option(
    "--ssh-profile",
    type=_SshProfile(),
    default="modern",
    show_default=True,
    help="el6: every el6 host's (and the jump host's) sshd offers only what EL6's OpenSSH"
    " 5.3 offers; el7 hosts' sshd stays modern, as EL7's OpenSSH 7.4.",
)
@click.option(
    "--nics",
    type=click.IntRange(1, 4),
    default=1,
    show_default=True,
    help="NICs per hypervisor. The first is the management NIC; the others (eth1..,"
    " named as the platform names further NICs) are unconfigured, on a data switch at"
    " MTU 9000 where the controller is 198.19.0.1 and fd48:6862:0:3::1.",
)
@click.option(
    "--kernel",
    type=click.Choice(["debian"]),
    default=None,
    help="Run the whole lab inside one QEMU VM on Debian's kernel (bonding, 802.1Q), booted"
    " from the cache scripts/install fills; `lab status|ssh|exec|down` forward into it.",
)
@click.pass_context
def lab_up(
    ctx: click.Context,
    count: int | None,
    platform_spec: str,
    direct: bool,
    libvirt: bool,
    ssh_profile: str,
    nics: int,
    kernel: str | None,
) -> None:
    """Build the lab and write its inventory, key, known_hosts and ssh_config."""
    from hvbridge.lab.fleet import parse_platforms

    the_lab = _lab(ctx)
    with _errors():
        platforms = parse_platforms(platform_spec, count)
        vm = _vm_lab(ctx)
        if kernel is not None or vm.is_up():
            inner = [
                *("--hosts", str(len(platforms)), "--platform", platform_spec),
                *(["--direct"] if direct else []),
                "--libvirt" if libvirt else "--no-libvirt",
                *("--ssh-profile", ssh_profile, "--nics", str(nics)),
            ]
            sys.exit(vm.up(inner, project=ctx.obj["project"]))
        the_lab.up(
            hosts=len(platforms),
            direct=direct,
            libvirt=libvirt,
            profile=ssh_profile,  # type: ignore[arg-type]
            platforms=platforms,
            nics=nics,
        )
    _print_status(the_lab)
    click.echo(f"inventory: {the_lab.paths.inventory}/   ssh: hvbridge lab ssh HOST")


@lab.command("down")
@click.pass_context
def lab_down(ctx: click.Context) -> None:
    """Remove everything the lab made, also after a lab that died half-way up."""
    with _errors():
        vm = _vm_lab(ctx)
        if vm.is_up():
            vm.down()
            return
        _lab(ctx).down()


@lab.command("status")
@click.pass_context
def lab_status(ctx: click.Context) -> None:
    """List the lab's hosts, their addresses and whether each answers SSH."""
    the_lab = _lab(ctx)
    with _errors():
        vm = _vm_lab(ctx)
        if vm.is_up():
            sys.exit(vm.status(project=ctx.obj["project"]))
        ok = _print_status(the_lab)
    sys.exit(0 if ok else 1)


@lab.command("ssh", context_settings={"ignore_unknown_options": True})
@click.argument("host")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def lab_ssh(ctx: click.Context, host: str, command: tuple[str, ...]) -> None:
    """Log in to HOST (or run COMMAND there) with OpenSSH, through the jump host."""
    from hvbridge.lab.lifecycle import LabError

    the_lab = _lab(ctx)
    with _errors():
        vm = _vm_lab(ctx)
        if vm.is_up():
            if not command:
                raise InputError(
                    "a VM lab forwards commands, not a terminal: hvbridge lab ssh HOST -- CMD"
                )
            sys.exit(vm.ssh(host, command))
        state = the_lab.require_state()
        if host not in state.hosts:
            raise LabError(f"no lab host {host!r}; hosts: {', '.join(state.hosts)}")
    # Hands the terminal to OpenSSH, as `ssh` itself would be used.
    os.execvp("ssh", ["ssh", "-F", str(the_lab.paths.ssh_config), host, *command])  # noqa: S606


@lab.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def lab_exec(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Run COMMAND inside a VM lab's VM (`lab up --kernel debian`), where its switches and
    the controller's side are, in the current directory; exits with its status. The
    hvbridge of this environment runs there too: `lab exec -- hvbridge run ...`."""
    with _errors():
        vm = _vm_lab(ctx)
        if not vm.is_up():
            raise InputError(
                f"no VM lab in {vm.paths.lab_dir}: `lab exec` runs commands in the VM of"
                " `hvbridge lab up --kernel debian`"
            )
        sys.exit(vm.execute(_in_this_env(command)))


def _in_this_env(command: tuple[str, ...]) -> list[str]:
    """`hvbridge` means this process's hvbridge (the same venv is visible in the VM)."""
    if command[0] == "hvbridge":
        return [sys.executable, "-m", "hvbridge.cli", *command[1:]]
    return list(command)


def _vm_lab(ctx: click.Context) -> VmLab:
    from hvbridge.lab.vm import VmLab

    return VmLab(ctx.obj["state_dir"])


DEMO_MAX_HOSTS = 50


@main.command()
@click.option(
    "--hosts",
    "count",
    type=click.IntRange(1, DEMO_MAX_HOSTS),
    default=None,
    help="Number of lab hypervisors (hv01..hvNN). [default: 3, or the --platform mix's sum]",
)
@click.option("--platform", "platform_spec", default="el6", show_default=True, help=PLATFORM_HELP)
@click.option("--keep", is_flag=True, help="Leave the lab up afterwards (remove with `lab down`).")
@click.pass_context
def demo(ctx: click.Context, count: int | None, platform_spec: str, keep: bool) -> None:
    """Build a lab (EL6 SSH profile, behind a jump host), show each hypervisor, run
    runbooks/bridge.yaml (the seed's whole procedure) on it, start guest v1 on each
    hypervisor, show them again (br0 holds the NIC, eth0 or ens3, and vnet0), write the
    run's reports to PROJECT/reports/RUN-ID/, remove the lab.

    Exits with the run's exit status, as `hvbridge run` does: 2 when the lab was
    bridged (something changed), with 4, 8 or 16 added when a host failed, was
    rolled back or the rollout stopped; 1 when the lab could not be built."""
    from hvbridge.events import console_sink
    from hvbridge.lab.fleet import parse_platforms
    from hvbridge.output import print_run
    from hvbridge.runner import RunRequest
    from hvbridge.runner import run as run_runbook

    # Checked before the demo re-runs itself in a namespace of its own: an error once.
    with _errors():
        platforms = parse_platforms(platform_spec, count)
        if len(platforms) > DEMO_MAX_HOSTS:
            raise InputError(
                f"--platform {platform_spec} makes {len(platforms)} hosts: the demo takes"
                f" 1 to {DEMO_MAX_HOSTS}"
            )
    if not keep and os.environ.get(PRIVATE_NETNS) != "1":
        _demo_in_private_namespace()
    the_lab = _lab(ctx)
    project: Path = ctx.obj["project"]
    with _errors():
        state = the_lab.up(
            hosts=len(platforms), direct=False, libvirt=True, profile="el6", platforms=platforms
        )
        try:
            _show_hosts(the_lab, state, "before")
            request = RunRequest(
                project=project,
                runbook=_runbook(project, Path(DEMO_RUNBOOK)),
                inventory=the_lab.paths.inventory,
                # The run's state goes with the lab, and `lab down` removes both.
                state_dir=the_lab.paths.root / "hvbridge",
            )
            _quiet_libraries()
            interrupt = Interrupt()
            with interrupt.handling():
                outcome = run_runbook(
                    request, console_sink(sys.stdout, sys.stdout.isatty), interrupt
                )
            print_run(outcome, click.echo, show_diff=True)
            _say_interrupted(outcome)
            _start_guests(the_lab, state)
            _show_hosts(the_lab, state, "after")
            paths = _write_reports(outcome, project, request.inventory, None)
            click.echo(f"reports: {paths.html}")
        finally:
            if not keep:
                the_lab.down()
    sys.exit(outcome.exit_code)


PRIVATE_NETNS = "HVBRIDGE_DEMO_NETNS"


def _demo_in_private_namespace() -> None:
    """Run the demo again in a network and mount namespace of its own, so that its
    switches and addresses never appear on this machine's network, even for a moment.
    (With --keep the lab must outlive the demo, so it stays in the current one.)"""
    if shutil.which("unshare") is None:
        raise click.ClickException(
            "the demo needs unshare (util-linux): apt-get install util-linux"
        )
    os.environ[PRIVATE_NETNS] = "1"
    argv = [sys.executable, "-m", "hvbridge.cli", *sys.argv[1:]]
    inner = 'ip link set lo up && exec "$@"'
    os.execvp("unshare", ["unshare", "--net", "--mount", "--", "sh", "-c", inner, "sh", *argv])  # noqa: S606


def _start_guests(the_lab: Lab, state: LabState) -> None:
    """The seed's step 6: once started, the guest's tap joins the bridge."""
    for name, rec in state.hosts.items():
        if rec.hypervisor:
            with the_lab.connect(name, state) as conn:
                conn.run("virsh domstate v1 | grep -q running || virsh start v1")


def _show_hosts(the_lab: Lab, state: LabState, when: str) -> None:
    for name, rec in state.hosts.items():
        if not rec.hypervisor:
            continue
        from hvbridge.lab.fleet import NIC_NAMES

        nic = NIC_NAMES.get(rec.platform, "eth0")  # type: ignore[call-overload]
        click.secho(f"== {name} {when} ({rec.platform}, {rec.address}, {nic} {rec.mac})", bold=True)
        with the_lab.connect(name, state) as conn:
            for command in DEMO_COMMANDS:
                result = conn.run(command)
                click.echo(f"# {command}\n{result.stdout}{result.stderr}")


def _print_status(the_lab: Lab) -> bool:
    rows = the_lab.status()
    click.echo(f"{'HOST':<8} {'PLATFORM':<9} {'ADDRESS':<16} {'NIC MAC':<18} SSH")
    for row in rows:
        click.echo(f"{row.name:<8} {row.platform:<9} {row.address:<16} {row.mac:<18} {row.ssh}")
    return all(row.ssh == "ok" for row in rows)


@contextmanager
def _errors() -> Iterator[None]:
    """Turn hvbridge's own errors (hvbridge.errors: input, host, parse) into one clear
    line and exit status 1. Anything else is a bug, and keeps its traceback."""
    try:
        yield
    except HvbridgeError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()
