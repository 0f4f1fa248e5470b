"""The shipped templates (network files per platform, reports), installed as the package
data of `hvbridge.templates`; a project's own `templates/` overrides them file by file."""
