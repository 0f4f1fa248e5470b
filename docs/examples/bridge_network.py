"""Bridge the hypervisors of a Nornir inventory with hvbridge's tasks, from a plain script.

python bridge_network.py INVENTORY_DIR [--check]
"""

import sys

from hvbridge.tasks import network
from nornir import InitNornir
from nornir.core.inventory import Host
from nornir.core.task import AggregatedResult, MultiResult, Task
from nornir_utils.plugins.functions import print_result


class CountSteps:
    """A Nornir processor of your own: it sees each step hvbridge's tasks run."""

    def __init__(self) -> None:
        self.steps: dict[str, list[str]] = {}

    def task_started(self, task: Task) -> None: ...
    def task_completed(self, task: Task, result: AggregatedResult) -> None: ...
    def task_instance_started(self, task: Task, host: Host) -> None: ...
    def task_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None: ...
    def subtask_instance_started(self, task: Task, host: Host) -> None: ...

    def subtask_instance_completed(self, task: Task, host: Host, result: MultiResult) -> None:
        self.steps.setdefault(host.name, []).append(task.name)


inventory, check = sys.argv[1], "--check" in sys.argv[2:]
nr = InitNornir(
    inventory={
        "plugin": "SimpleInventory",
        "options": {
            "host_file": f"{inventory}/hosts.yaml",
            "group_file": f"{inventory}/groups.yaml",
            "defaults_file": f"{inventory}/defaults.yaml",
        },
    },
    logging={"enabled": False},
)
counter = CountSteps()
# render, push, apply (the guarded restart), verify, collect facts; check mode: diffs only
results = nr.with_processors([counter]).run(task=network.bridge, dry_run=check)
print_result(results)
for name, multi in results.items():
    if multi.failed:
        continue
    steps = multi[0].result.steps  # each step's data, by name
    verb = "would write" if check else "wrote"
    print(f"{name}: {verb} {', '.join(steps['push'].written) or 'nothing'}")
    print(f"{name}: {counter.steps[name]}; facts: {steps['facts'].facts['default_route']}")
sys.exit(1 if results.failed else 0)
