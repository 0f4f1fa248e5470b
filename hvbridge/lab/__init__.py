"""The lab: real EL6-style hypervisors in namespaces on this machine."""
