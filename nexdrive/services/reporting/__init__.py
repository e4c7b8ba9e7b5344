"""Summaries for the owner: the daily digest, the dashboard's figures; operations figures for monitoring.

Public modules: digest, kpis, metrics.
"""
