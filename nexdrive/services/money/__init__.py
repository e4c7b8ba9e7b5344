"""Payments, packages, vouchers and invoices.

Public modules: payments, packages, vouchers, invoices.
"""
