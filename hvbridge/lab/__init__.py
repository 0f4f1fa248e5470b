"""The lab: real EL6- and EL7-style hypervisors in namespaces on this machine."""
