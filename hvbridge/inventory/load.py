"""Loading the SimpleInventory in a directory: its files surveyed, read by Nornir, every
host validated; and what connecting to its hosts needs on this machine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nornir.core.inventory import Inventory
from nornir.plugins.inventory.simple import SimpleInventory

from hvbridge import ssh, sshfiles
from hvbridge.hops import Hop
from hvbridge.inventory import jumps
from hvbridge.inventory.mask import mask
from hvbridge.inventory.models import HostModel
from hvbridge.inventory.problems import InventoryError, InventoryFiles, render
from hvbridge.inventory.survey import DEFAULTS_FILE, GROUPS_FILE, HOSTS_FILE, survey_files
from hvbridge.inventory.validate import check_inventory


@dataclass(frozen=True)
class LoadedInventory:
    """A checked inventory: Nornir's objects (changed only where a host's jump hops were
    resolved, hvbridge.inventory.jumps.write_jumps) and a validated model per host."""

    directory: Path
    inventory: Inventory
    models: Mapping[str, HostModel]

    def jump_hops(self, name: str) -> list[Hop]:
        """The hops to reach host `name` (hvbridge.inventory.jumps.jump_hops)."""
        return jumps.jump_hops(self.models, name)

    def jump_names(self, name: str) -> list[str]:
        """What messages call each of `jump_hops(name)`: an inventory host by its name, a
        host outside it as written."""
        return [hop.label for hop in self.jump_hops(name)]

    def check_controller(self, names: Iterable[str]) -> None:
        """The keys, known_hosts and ssh_config that connecting to `names` reads, checked on
        this machine (nothing is connected to); InventoryError naming each file and line."""
        found = controller_problems(self, names)
        if found:
            raise InventoryError(found)

    def passwords(self) -> list[str]:
        """Every password the inventory holds: the trace masks them."""
        return [
            model.connection.password.get_secret_value()
            for model in self.models.values()
            if model.connection.password is not None
        ]

    def summary(self) -> dict[str, Any]:
        """Each host's validated values, defaults filled in, JSON/YAML-ready, secrets masked."""
        return {name: mask(model.model_dump(mode="json")) for name, model in self.models.items()}


def load_inventory(directory: Path) -> LoadedInventory:
    """Read and check the SimpleInventory in `directory`; never touches the network.

    Raises InventoryError listing every problem, each as `<file>: host <name>: <field>: <why>`.
    """
    survey = survey_files(directory)
    if survey.blocking:
        raise InventoryError([*survey.blocking, *survey.ignored])
    nornir = SimpleInventory(
        host_file=str(directory / HOSTS_FILE),
        group_file=str(directory / GROUPS_FILE),
        defaults_file=str(directory / DEFAULTS_FILE),
    ).load()
    models, problems = check_inventory(nornir)
    lines = [*survey.ignored, *render(problems, InventoryFiles.in_directory(directory))]
    if lines:
        raise InventoryError(lines)
    jumps.write_jumps(nornir, models)
    return LoadedInventory(directory, nornir, models)


def controller_problems(loaded: LoadedInventory, names: Iterable[str]) -> list[str]:
    """What would fail on this machine before hosts `names` are reached: ssh_config values
    that fail the inventory's grammar, key and known_hosts files missing or unreadable (by
    line). Resolved as the connection resolves them (ssh.resolve), each file read once."""
    cache: dict[tuple[str, Path], list[str]] = {}
    found: list[tuple[str, str]] = []
    for name in names:
        model = loaded.models[name]
        conn = model.connection
        extras = conn.extras.model_dump(mode="json", exclude_none=True)
        extras["jump"] = loaded.jump_hops(name)
        try:
            _, options = ssh.resolve(
                conn.hostname, conn.username, None, conn.port, model.platform, extras
            )
        except ssh.SSHError as exc:
            if isinstance(exc, ssh.ConfigValueError):
                config = extras.get("ssh_config") or ssh.DEFAULT_SSH_CONFIG.expanduser()
                found.append((f"{config}: {exc}", name))
            else:
                found.append((str(exc), name))
            continue
        found += [
            (problem, name)
            for problem in sshfiles.file_problems(
                options.key_filename, options.known_hosts, options.accept_new, cache
            )
        ]
    return sshfiles.collect(found)
