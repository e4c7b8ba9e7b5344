"""Accounts, sign-in, sessions, passwords, parent links and their permissions.

Public modules: accounts, passwords, housekeeping, privacy.
"""
