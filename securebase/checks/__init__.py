"""Checks against an organization, and the result records that reports and billing read."""
