"""Summaries for the owner: the daily digest.

Public modules: digest, kpis.
"""
