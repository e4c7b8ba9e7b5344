"""Scheduled jobs (APScheduler): reminders, digests, the nightly chain verification.

Job functions live here and call nexdrive.services; the scheduler that runs each
due job once across all app processes is built with the notifications issue.
"""
