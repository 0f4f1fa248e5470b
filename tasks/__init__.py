"""hvbridge's Nornir tasks, installed as `hvbridge.tasks`: call them with `nr.run` (see
README, Python API) or name them in a runbook as MODULE.FUNCTION. A project's own
`tasks/` extends and overrides them, module by module."""
