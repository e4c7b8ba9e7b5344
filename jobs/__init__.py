"""Scheduled jobs (APScheduler): reminders, package expiry, callbacks, waitlist, digest, integrity.

``jobs.runner`` holds the job table and runs each due run once across all app
processes (a claim row in ``job_runs``); ``jobs.scheduler`` runs the table in
an app process (started with the app); ``jobs.tasks`` are the thin bodies
calling nexdrive.services.
"""
