"""The CBT&A record: hash-chain integrity now; lessons, competencies, signatures and certificates next.

Public modules: integrity, logbook, audit_trail.
"""
