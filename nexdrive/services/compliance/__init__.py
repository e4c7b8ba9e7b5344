"""The CBT&A record: lessons, competencies, signatures, their verification and hash-chain integrity.

Public modules:

* competencies: the rules every channel asks (the matrix, ``check_can_assess``, booking eligibility,
  certificate eligibility, the audit-unit notice);
* lessons: recording, signing, correcting, disputing and reading lessons;
* signatures: checking, storing and describing signature-pad images;
* verification: ``verify_lesson``, in plain words;
* integrity: the nightly check of every hash chain;
* audit_trail: the admin's audit-log viewer and "verify all records";
* logbook: supervised drives, day/night minutes, credited hours and the log-book summary;
* bridge_forms: the lesson bridge form for the supervising driver (page data, PDF, sending, Hub links);
* private_notes: the instructor's private notes (author and office only);
* hub: the Competency Hub's pages (data files), ``hub_slug``, a learner's status on each page, and
  what a supervising driver should practise next;
* parent_centre: what a linked parent sees of each learner, per the learner's switches;
* certificates: certificate eligibility (tasks, reviews, final drive, hours), issuing the certificate
  (signed by both), the completion statement PDF and the public verification;
* auditors_pack: one learner's whole record as a PDF and a ZIP (JSON + signature PNGs), and the pack of
  every learner with lessons in a date range;
* status_changes: a competency status change from the API, made through a draft lesson;
* logbook_pdf: the printable log-book summary (fpdf2);
* learner_home: the learner's map, hours, certificate status and booking gate, from the engine's answers;
* self_assessment: the learner's confidence before Review 1, Review 2 and the final drive (C24).

Imports core and messaging only (never scheduling or money): scheduling asks competencies.
"""
