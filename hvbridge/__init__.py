"""hvbridge: bridged networking for KVM hypervisor fleets."""

__version__ = "0.1.0"
