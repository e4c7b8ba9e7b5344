"""The CBT&A record: lessons, competencies, signatures, their verification and hash-chain integrity.

Public modules:

* competencies: the rules every channel asks (the matrix, ``check_can_assess``, booking eligibility,
  certificate eligibility, the audit-unit notice);
* lessons: recording, signing, correcting, disputing and reading lessons;
* signatures: checking, storing and describing signature-pad images;
* verification: ``verify_lesson``, in plain words;
* integrity: the nightly check of every hash chain.

Imports core and messaging only (never scheduling or money): scheduling asks competencies.
"""
