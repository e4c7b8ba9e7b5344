"""Every message the school sends or receives: the template catalogue, the outbox and its dispatcher,
the in-app inbox, preferences, admin alerts.

Imports no domain package. Public modules: notify, message_templates, dispatch, inbox, preferences,
admin_alerts, outbox_admin.
"""
