"""Pulumi component resources of the landing zone, one per module."""

TYPE_PREFIX = "securebase:index"
