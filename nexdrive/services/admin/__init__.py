"""The owner's office: learners (search, the admin's view of one learner, archive, transfer) and the
CRM screens (contacts, pipeline, interactions, create and edit, convert a prospect, merge on purpose);
instructors (list with each one's month, onboard, edit, deactivate, accreditation warnings); prices and
policies (business settings, lesson types and prices, vouchers); reports (revenue, competency progress,
instructor utilisation, leads and conversion as tables, CSV and PDF; lessons as CSV).

Public modules: learners, contacts, instructors, business, reports, report_tables.
"""
