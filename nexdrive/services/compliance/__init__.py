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
* logbook_pdf: the printable log-book summary (fpdf2);
* learner_home: the learner's map, hours, certificate status and booking gate, from the engine's answers;
* self_assessment: the learner's confidence before Review 1, Review 2 and the final drive (C24);
* bridge_forms: the lesson bridge form for the supervising driver (page data, PDF, sending, Hub slugs);
* private_notes: the instructor's private notes (author and office only).

Imports core and messaging only (never scheduling or money): scheduling asks competencies.
"""
