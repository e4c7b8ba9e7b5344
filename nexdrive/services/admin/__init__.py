"""The owner's office: learners (search, the admin's view of one learner, archive, transfer) and the
CRM screens (contacts, pipeline, interactions, create and edit, convert a prospect, merge on purpose);
instructors (list with each one's month, onboard, edit, deactivate, accreditation warnings).

Public modules: learners, contacts, instructors.
"""
