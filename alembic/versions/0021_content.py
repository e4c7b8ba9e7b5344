"""The owner's content (issue 16 item 6): FAQ entries, testimonials with recorded consent, blog posts.

``faq_entries`` starts with the questions and answers the FAQ page had in its code (same keys, so the
assistant's ``faq:<key>`` documents stay in place); ``testimonials`` starts with the eight sample reviews
the site showed, flagged ``is_sample`` (the page keeps saying they are examples). A testimonial is
published only while consent is recorded and not withdrawn (CHECK ``published_with_consent``); a blog post
marked published has a ``published_at``.

Revision ID: 0021
Revises: 0014 (the coordinator re-chains when merging)
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0022"
branch_labels = None
depends_on = None

FAQ = [('logbook-0',
  'Log book and supervised hours',
  'How many supervised hours do I need?',
  'If you are under 25, you need 100 hours of supervised driving recorded in your log book, including at least 10 '
  'hours at night. If you are 25 or older, you need 50 hours, including at least 5 at night.'),
 ('logbook-1',
  'Log book and supervised hours',
  'Do lessons with an instructor count towards my hours?',
  'Yes. Your first 10 hours of lessons with an accredited driving instructor count three for one, so 10 hours of '
  'lessons are credited as 30 hours in your log book. That bonus stops at 30 credited hours: after your first 10 '
  'hours, lessons count hour for hour like any other supervised driving.'),
 ('logbook-2',
  'Log book and supervised hours',
  'Who can supervise my practice drives?',
  'Anyone with a full (open) driver licence for the type of car you are driving can supervise you. Most learners '
  'practise with a parent or another family member between lessons.'),
 ('logbook-3',
  'Log book and supervised hours',
  'Where do the official rules live?',
  'Access Canberra publishes the current learner licence and log book requirements. Rules change from time to '
  'time, so check there before you plan, and ask us if anything is unclear.'),
 ('cbta-0',
  'The CBT&A scheme',
  'What is CBT&A?',
  'Competency-based training and assessment is how most ACT learners qualify for their provisional (P) licence. '
  'Instead of one test on one day, an accredited instructor teaches and assesses 23 driving tasks, one by one, '
  'and signs each one off in your log book when you can do it on your own.'),
 ('cbta-1',
  'The CBT&A scheme',
  'What are the 23 tasks and the two reviews?',
  'Tasks 1 to 17 cover car control: the controls and cabin drill, starting, moving off, gears, steering, turns, '
  'speed control, slowing and stopping, hill starts, giving way, reversing, parking, U-turns and the three-point '
  'turn. Review 1 checks tasks 1 to 17 together. Tasks 18 to 22 cover lane changing and freeways, overtaking, '
  'hazard recognition, the system of vehicle control and vulnerable road users. Review 2 checks tasks 1 to 22 '
  'together. Task 23, the final drive, is a drive on busy and unfamiliar roads.'),
 ('cbta-2',
  'The CBT&A scheme',
  'Can a task be taught and assessed in the same lesson?',
  'No. A task is taught first and assessed in a later lesson, so you show you can do it without having just '
  'practised it. Each review also comes at least 36 hours after you complete the last task it covers.'),
 ('cbta-3',
  'The CBT&A scheme',
  'How is the final drive booked?',
  "Once Review 2 is signed off, we book the final drive with at least two business days' notice to the ACT "
  "government's audit unit. Final drives are not held on Sundays or ACT public holidays."),
 ('cbta-4',
  'The CBT&A scheme',
  "What happens if I'm not ready to be signed off?",
  "Nothing is lost. The task stays 'not yet competent' in your log book, we practise it again, and assess it in a "
  'later lesson. Everything you have already achieved stays signed off.'),
 ('lessons-0',
  'Lessons',
  'What do I need to bring?',
  'Your current ACT learner licence (we check it at every lesson), glasses or contact lenses if your licence says '
  "you need them, and comfortable flat shoes. You can't drive without your licence, so please don't forget it."),
 ('lessons-1',
  'Lessons',
  'Where do lessons start and finish?',
  'We pick you up and drop you off at home, school, uni or work in Belconnen, Gungahlin, Inner North, Inner '
  'South, Woden Valley, Weston Creek, Molonglo Valley and Tuggeranong. Just outside those areas? Ask us: we can '
  'often meet you nearby.'),
 ('lessons-2',
  'Lessons',
  'What car will I learn in?',
  'A modern automatic car with dual controls: the instructor has a second brake, so you can learn calmly and '
  'safely.'),
 ('lessons-3',
  'Lessons',
  'How many lessons will I need?',
  'It depends on your experience and how much you practise between lessons. After your first lesson we will give '
  'you an honest estimate, and you can see your progress through the 23 tasks at any time.'),
 ('lessons-4',
  'Lessons',
  "I'm a nervous driver. Is that okay?",
  'Absolutely. We start somewhere quiet, go at your pace and only move on to busier roads when you are ready.'),
 ('booking-0',
  'Bookings, payments and cancellations',
  'How do I book?',
  "Choose a lesson on our Lessons & pricing page and pick a time online, or call us and we'll book it for you."),
 ('booking-1',
  'Bookings, payments and cancellations',
  'How do I pay?',
  'You pay by card when you book online, and a receipt is emailed to you. Prices are shown on our Lessons & '
  'pricing page before you book.'),
 ('booking-2',
  'Bookings, payments and cancellations',
  'What if I need to cancel or move a lesson?',
  'You can cancel or move a lesson free of charge with enough notice. The notice period and any late cancellation '
  'fee are set out on our Lessons & pricing page and in our terms.'),
 ('parents-0',
  'For parents and supervising drivers',
  'Can I see how my child is going?',
  'Yes, with their permission. A learner can invite a parent to a parent account, which shows upcoming lessons '
  'and log-book progress. The learner decides what you can see and can change it at any time.'),
 ('parents-1',
  'For parents and supervising drivers',
  'Can I sit in on a lesson?',
  'Yes. Our coaching lesson for supervising drivers is designed for it: you learn what is being taught and how to '
  'make your practice drives at home count.')]
SAMPLES = [("I was so nervous I didn't want to drive on Northbourne Avenue. My instructor started me in quiet streets in "
  'Watson and by Review 2 I was merging onto the Majura Parkway without thinking about it.',
  'Mia',
  'Watson',
  'Learner, P-plater since March',
  'Nervous driver'),
 ('The summary after each lesson was gold. I knew exactly what to practise with my son on the weekend, so our '
  "drives weren't just laps around the block any more.",
  'Karen',
  'Kambah',
  'Parent',
  'For parents'),
 ("Clear, calm and honest. When I wasn't ready for a task I was told straight, and we worked on it until I was. I "
  'passed my final drive first go.',
  'Arjun',
  'Gungahlin',
  'Learner',
  'Final drive'),
 ("Being able to see my daughter's log book progress without nagging her about it was a relief for both of us. "
  'Booking lessons online around netball was easy too.',
  'Sophie',
  'Belconnen',
  'Parent',
  'Parent account'),
 ('I moved to Canberra at 27 and needed my ACT licence. Lessons were planned around work, pick-up was from my '
  'office in Barton, and the roundabouts finally make sense.',
  'Daniel',
  'Kingston',
  'Learner',
  'Adult learner'),
 ('Reverse parallel parking was my nemesis. One lesson with a proper method and it clicked. Highly recommend for '
  'anyone doing CBT&A.',
  'Chloe',
  'Weston',
  'Learner',
  'Parking'),
 ('We did the coaching lesson for supervising drivers. I learnt more about what the CBT&A tasks actually ask for '
  'in an hour than from months of reading.',
  'Tran',
  'Tuggeranong',
  'Parent',
  'Supervisor coaching'),
 ('Always on time, the car was spotless, and I never felt rushed. Ten lessons counted as thirty hours in my log '
  'book, which helped a lot.',
  'Ella',
  'Coombs',
  'Learner',
  'Log book hours')]


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())]


def upgrade() -> None:
    faq = op.create_table(
        "faq_entries",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("is_published", sa.Boolean(), nullable=False, server_default=sa.true()),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
        sa.UniqueConstraint("key", name="uq_faq_entries_key"),
    )
    op.create_index("idx_faq_entries_position", "faq_entries", ["position"])

    testimonials = op.create_table(
        "testimonials",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("suburb", sa.Text(), nullable=True),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("highlight", sa.Text(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("consent_given_by", sa.Text(), nullable=True),
        sa.Column("consent_given_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consent_method", sa.Text(), nullable=True),
        sa.Column("consent_withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_published", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("is_sample", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_testimonials"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint("NOT is_published OR (consent_given_by IS NOT NULL AND consent_given_at IS NOT NULL "
                           "AND consent_method IS NOT NULL AND consent_withdrawn_at IS NULL)",
                           name="published_with_consent"),
    )
    op.create_index("idx_testimonials_position", "testimonials", ["position"])

    op.create_table(
        "blog_posts",
        sa.Column("id", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'draft'")),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Uuid(), sa.ForeignKey("users.id", name="fk_blog_posts_author_id",
                                                         ondelete="SET NULL"), nullable=True),
        sa.Column("author_name", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_blog_posts"),
        sa.UniqueConstraint("slug", name="uq_blog_posts_slug"),
        sa.CheckConstraint("status IN ('draft', 'published')", name="status"),
        sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name="published_at"),
    )
    op.create_index("ix_blog_posts_author_id", "blog_posts", ["author_id"])
    op.create_index("idx_blog_posts_published", "blog_posts", ["status", "published_at"])

    for table in ("faq_entries", "testimonials", "blog_posts"):
        op.execute(f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION set_updated_at()")

    op.bulk_insert(faq, [{"key": k, "category": c, "question": q, "answer": a, "position": (i + 1) * 10}
                         for i, (k, c, q, a) in enumerate(FAQ)])
    sample_consent = "NexDrive Academy (a sample written for the demo school, not a real person)"
    op.bulk_insert(testimonials, [
        {"quote": q, "display_name": n, "suburb": s, "role": r, "highlight": h, "rating": 5,
         "consent_given_by": sample_consent, "consent_method": "sample text", "is_published": False,
         "is_sample": True, "position": (i + 1) * 10}
        for i, (q, n, s, r, h) in enumerate(SAMPLES)])
    op.execute("UPDATE testimonials SET consent_given_at = now(), is_published = true WHERE is_sample")


def downgrade() -> None:
    for table in ("blog_posts", "testimonials", "faq_entries"):
        op.drop_table(table)
