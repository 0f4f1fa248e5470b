"""Shared fixtures. Lab fixtures build real hosts; they fail, never skip, when
the machine lacks something (root, a Debian package): the error says what."""
