"""Contacts (leads and enquiries), call-back requests and replies to the school's SMS number.

Public modules: contacts, callbacks, sms_replies.
"""
