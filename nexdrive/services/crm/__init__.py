"""Contacts (leads and enquiries) and call-back requests.

Public modules: contacts, callbacks.
"""
