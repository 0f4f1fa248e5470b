"""The shipped runbooks, installed as the package data of `hvbridge.runbooks`."""
