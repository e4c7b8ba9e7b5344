"""Shared by every domain: the acting user (actors), the clock, the audit chain and the one access policy.

Imports no domain package. Public modules: actors, clock, audit, access, paging, holidays (the ACT
public-holiday calendar and business days), pdf_layout (a shared
PDF page, bar chart and table for tabular documents).
"""
