"""Every message the school sends or receives: the template catalogue, the outbox and its dispatcher, in-app inbox, preferences, SMS replies, admin alerts.

Imports no domain package. Public modules: notify, message_templates, dispatch, inbox, preferences, sms_replies, admin_alerts, outbox_admin.
"""
