"""Shared by every domain: the acting user (actors), errors, Australian formats, the clock, the audit chain and the one access policy.

Imports no domain package. Public modules: actors, errors, formats, clock, audit, access.
"""
