"""Initial schema: every table of the NexDrive data model.

Creates the pgvector extension, the ``set_updated_at()`` trigger function and a
``BEFORE UPDATE`` trigger on every table with an ``updated_at`` column, then all
tables with their named CHECK/UNIQUE/FOREIGN KEY constraints and indexes. It
matches ``nexdrive.models`` exactly (tests/integration/test_schema_matches_models.py
runs Alembic's compare_metadata against it).

Not here, by design: the bookings exclusion constraint and triggers, the hash
chain and append-only triggers (revision 0002).

Revision ID: 0001
Revises:
Create Date: 2026-02-20
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Creation order (foreign keys point backwards, except the two in CYCLE_FKS).
TABLES = [
    "business_settings",
    "chain_heads",
    "competency_tasks",
    "invoice_counters",
    "packages",
    "public_holidays",
    "rag_documents",
    "services",
    "users",
    "vouchers",
    "webhook_events",
    "audit_log",
    "auth_sessions",
    "magic_links",
    "notification_preferences",
    "profiles",
    "rag_chunks",
    "signatures",
    "instructors",
    "parents",
    "availability_overrides",
    "availability_rules",
    "contacts",
    "students",
    "bookings",
    "conversations",
    "marketing_consents",
    "parent_invitations",
    "parent_student_links",
    "self_assessments",
    "waitlist",
    "call_logs",
    "lessons",
    "messages",
    "outbox_messages",
    "payments",
    "invoices",
    "lesson_bridge_forms",
    "notifications",
    "private_notes",
    "student_competencies",
    "student_packages",
    "voucher_redemptions",
]

# Tables with an updated_at column kept by set_updated_at().
UPDATED_AT_TABLES = [
    "availability_overrides",
    "availability_rules",
    "bookings",
    "business_settings",
    "chain_heads",
    "competency_tasks",
    "contacts",
    "conversations",
    "instructors",
    "marketing_consents",
    "notification_preferences",
    "notifications",
    "outbox_messages",
    "packages",
    "parent_invitations",
    "parent_student_links",
    "parents",
    "payments",
    "private_notes",
    "profiles",
    "rag_documents",
    "self_assessments",
    "services",
    "student_packages",
    "students",
    "users",
    "vouchers",
    "waitlist",
]

# (name, table, referred table, column): edges of the reference cycles
# bookings <-> lessons and bookings <-> payments, added once both tables exist.
CYCLE_FKS = [
    ("fk_bookings_lesson_id", "bookings", "lessons", "lesson_id"),
    ("fk_bookings_payment_id", "bookings", "payments", "payment_id"),
]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.execute(
        """
        CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            NEW.updated_at := now();
            RETURN NEW;
        END $$;
        """
    )

    _create_tables()

    for name, table, referred, column in CYCLE_FKS:
        op.create_foreign_key(name, table, referred, [column], ["id"])

    for table in UPDATED_AT_TABLES:
        op.execute(
            f"CREATE TRIGGER trg_{table}_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION set_updated_at()"
        )


def downgrade() -> None:
    for name, table, _referred, _column in CYCLE_FKS:
        op.drop_constraint(name, table, type_="foreignkey")
    # Dropping a table drops its indexes, constraints and triggers.
    for table in reversed(TABLES):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS set_updated_at()")
    # The vector extension is left installed (other databases objects may use it).


def _create_tables() -> None:
    op.create_table('business_settings',
    sa.Column('id', sa.SmallInteger(), server_default=sa.text('1'), autoincrement=False, nullable=False),
    sa.Column('business_name', sa.Text(), server_default=sa.text("'NexDrive Academy'"), nullable=False),
    sa.Column('abn', sa.Text(), nullable=True),
    sa.Column('gst_registered', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('timezone', sa.Text(), server_default=sa.text("'Australia/Sydney'"), nullable=False),
    sa.Column('cancellation_notice_hours', sa.Integer(), server_default=sa.text('24'), nullable=False),
    sa.Column('late_cancellation_fee_cents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('default_buffer_minutes', sa.Integer(), server_default=sa.text('15'), nullable=False),
    sa.Column('min_booking_notice_hours', sa.Integer(), server_default=sa.text('24'), nullable=False),
    sa.Column('booking_horizon_days', sa.Integer(), server_default=sa.text('60'), nullable=False),
    sa.Column('min_lesson_minutes', sa.Integer(), server_default=sa.text('45'), nullable=False),
    sa.Column('hold_minutes', sa.Integer(), server_default=sa.text('35'), nullable=False),
    sa.Column('review_min_gap_hours', sa.Integer(), server_default=sa.text('36'), nullable=False),
    sa.Column('final_drive_notice_business_days', sa.Integer(), server_default=sa.text('2'), nullable=False),
    sa.Column('accreditation_warning_days', sa.Integer(), server_default=sa.text('30'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('accreditation_warning_days >= 0', name=op.f('ck_business_settings_accreditation_warning_days')),
    sa.CheckConstraint('booking_horizon_days > 0', name=op.f('ck_business_settings_booking_horizon_days')),
    sa.CheckConstraint('cancellation_notice_hours >= 0', name=op.f('ck_business_settings_cancellation_notice_hours')),
    sa.CheckConstraint('default_buffer_minutes >= 0', name=op.f('ck_business_settings_default_buffer_minutes')),
    sa.CheckConstraint('final_drive_notice_business_days >= 0', name=op.f('ck_business_settings_final_drive_notice_business_days')),
    sa.CheckConstraint('hold_minutes > 0', name=op.f('ck_business_settings_hold_minutes')),
    sa.CheckConstraint('id = 1', name=op.f('ck_business_settings_single_row')),
    sa.CheckConstraint('late_cancellation_fee_cents >= 0', name=op.f('ck_business_settings_late_cancellation_fee_cents')),
    sa.CheckConstraint('min_booking_notice_hours >= 0', name=op.f('ck_business_settings_min_booking_notice_hours')),
    sa.CheckConstraint('min_lesson_minutes > 0', name=op.f('ck_business_settings_min_lesson_minutes')),
    sa.CheckConstraint('review_min_gap_hours >= 0', name=op.f('ck_business_settings_review_min_gap_hours')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_business_settings'))
    )
    op.create_table('chain_heads',
    sa.Column('chain', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('head_hash', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('seq >= 0', name=op.f('ck_chain_heads_seq')),
    sa.PrimaryKeyConstraint('chain', name=op.f('pk_chain_heads'))
    )
    op.create_table('competency_tasks',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('task_number', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category', sa.Text(), nullable=True),
    sa.Column('prerequisites', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('is_review', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('is_final_drive', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('review_requires_tasks', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('final_drive_min_minutes', sa.Integer(), nullable=True),
    sa.Column('final_drive_unfamiliar_roads', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('competency_hub_content_id', sa.Uuid(), nullable=True),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('final_drive_min_minutes IS NULL OR final_drive_min_minutes > 0', name=op.f('ck_competency_tasks_final_drive_min_minutes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competency_tasks')),
    sa.UniqueConstraint('task_number', name='uq_competency_tasks_task_number')
    )
    op.create_table('invoice_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.CheckConstraint('last_seq >= 0', name=op.f('ck_invoice_counters_last_seq')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_invoice_counters'))
    )
    op.create_table('packages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('total_credits', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('valid_for_days', sa.Integer(), nullable=True),
    sa.Column('applicable_services', sa.ARRAY(sa.Uuid()), server_default=sa.text("'{}'::uuid[]"), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_packages_price_cents')),
    sa.CheckConstraint('total_credits > 0', name=op.f('ck_packages_total_credits')),
    sa.CheckConstraint('valid_for_days IS NULL OR valid_for_days > 0', name=op.f('ck_packages_valid_for_days')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packages'))
    )
    op.create_table('public_holidays',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('jurisdiction', sa.Text(), server_default=sa.text("'ACT'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_holidays')),
    sa.UniqueConstraint('date', 'jurisdiction', name='uq_public_holidays_date_jurisdiction')
    )
    op.create_table('rag_documents',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('source_type', sa.Text(), nullable=False),
    sa.Column('file_url', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('chunk_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_indexed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source_type IN ('regulation', 'business', 'educational', 'faq', 'blog', 'template')", name=op.f('ck_rag_documents_source_type')),
    sa.CheckConstraint("status IN ('pending', 'processing', 'indexed', 'failed', 'archived')", name=op.f('ck_rag_documents_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rag_documents'))
    )
    op.create_index('idx_rag_documents_status', 'rag_documents', ['status'], unique=False)
    op.create_table('services',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('slug', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('is_bookable_online', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('requires_eligibility_check', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('min_notice_hours', sa.Integer(), server_default=sa.text('24'), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('color', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('lesson', 'co_lesson', 'assessment', 'special')", name=op.f('ck_services_category')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_services_duration_minutes')),
    sa.CheckConstraint('min_notice_hours >= 0', name=op.f('ck_services_min_notice_hours')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_services_price_cents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('slug', name='uq_services_slug')
    )
    op.create_index('idx_services_active', 'services', ['is_active'], unique=False)
    op.create_table('users',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_sign_in_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('admin', 'instructor', 'student', 'parent')", name=op.f('ck_users_role')),
    sa.CheckConstraint("status IN ('active', 'suspended')", name=op.f('ck_users_status')),
    sa.CheckConstraint('failed_sign_in_count >= 0', name=op.f('ck_users_failed_sign_in_count')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('vouchers',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('voucher_type', sa.Text(), nullable=False),
    sa.Column('discount_percent', sa.Integer(), nullable=True),
    sa.Column('discount_cents', sa.Integer(), nullable=True),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('times_used', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('max_uses_per_student', sa.Integer(), server_default=sa.text('1'), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applicable_services', sa.ARRAY(sa.Uuid()), server_default=sa.text("'{}'::uuid[]"), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("voucher_type IN ('percentage', 'fixed_amount', 'free_lesson')", name=op.f('ck_vouchers_voucher_type')),
    sa.CheckConstraint('discount_cents IS NULL OR discount_cents >= 0', name=op.f('ck_vouchers_discount_cents')),
    sa.CheckConstraint('discount_percent IS NULL OR discount_percent BETWEEN 0 AND 100', name=op.f('ck_vouchers_discount_percent')),
    sa.CheckConstraint('times_used >= 0', name=op.f('ck_vouchers_times_used')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vouchers')),
    sa.UniqueConstraint('code', name='uq_vouchers_code')
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('provider', sa.Text(), nullable=False),
    sa.Column('event_id', sa.Text(), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'received'"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('received', 'processing', 'processed', 'failed', 'ignored')", name=op.f('ck_webhook_events_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_events_attempts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('provider', 'event_id', name='uq_webhook_events_provider_event_id')
    )
    op.create_index('ix_webhook_events_status_received', 'webhook_events', ['status', 'received_at'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('event_type', sa.Text(), nullable=False),
    sa.Column('severity', sa.Text(), server_default=sa.text("'info'"), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sa.Text(), nullable=True),
    sa.Column('subject_type', sa.Text(), nullable=True),
    sa.Column('subject_id', sa.Uuid(), nullable=True),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('ip_address', postgresql.INET(), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('gps_latitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('gps_longitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('chain', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('previous_hash', sa.Text(), nullable=False),
    sa.Column('record_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("severity IN ('info', 'warning', 'critical')", name=op.f('ck_audit_log_severity')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_audit_log_seq')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('chain', 'previous_hash', name='uq_audit_log_chain_previous_hash'),
    sa.UniqueConstraint('chain', 'seq', name='uq_audit_log_chain_seq')
    )
    op.create_index('idx_audit_actor', 'audit_log', ['actor_id'], unique=False)
    op.create_index('idx_audit_created', 'audit_log', ['created_at'], unique=False)
    op.create_index('idx_audit_event_type', 'audit_log', ['event_type'], unique=False)
    op.create_index('idx_audit_subject', 'audit_log', ['subject_type', 'subject_id'], unique=False)
    op.create_table('auth_sessions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('idle_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('absolute_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ip', postgresql.INET(), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.CheckConstraint('absolute_expires_at > created_at', name=op.f('ck_auth_sessions_absolute_after_created')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_sessions_user_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name='uq_auth_sessions_token_hash')
    )
    op.create_index(op.f('ix_auth_sessions_user_id'), 'auth_sessions', ['user_id'], unique=False)
    op.create_table('magic_links',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_ip', postgresql.INET(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("purpose IN ('sign_in', 'reset_password', 'invite', 'verify_email')", name=op.f('ck_magic_links_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_magic_links_user_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_magic_links')),
    sa.UniqueConstraint('token_hash', name='uq_magic_links_token_hash')
    )
    op.create_index('ix_magic_links_email', 'magic_links', [sa.literal_column('lower(email)')], unique=False)
    op.create_index(op.f('ix_magic_links_user_id'), 'magic_links', ['user_id'], unique=False)
    op.create_table('notification_preferences',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('notification_type', sa.Text(), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms', 'push', 'in_app')", name=op.f('ck_notification_preferences_channel')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_preferences')),
    sa.UniqueConstraint('user_id', 'notification_type', 'channel', name='uq_notification_preferences_user_type_channel')
    )
    op.create_table('profiles',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('first_name', sa.Text(), nullable=False),
    sa.Column('last_name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('address_line1', sa.Text(), nullable=True),
    sa.Column('address_line2', sa.Text(), nullable=True),
    sa.Column('suburb', sa.Text(), nullable=True),
    sa.Column('state', sa.Text(), server_default=sa.text("'ACT'"), nullable=True),
    sa.Column('postcode', sa.Text(), nullable=True),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('onboarded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('avatar_url', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'instructor', 'student', 'parent')", name=op.f('ck_profiles_role')),
    sa.CheckConstraint("status IN ('active', 'inactive', 'suspended')", name=op.f('ck_profiles_status')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_profiles_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_profiles_user_id'))
    )
    op.create_index('idx_profiles_email', 'profiles', ['email'], unique=False)
    op.create_index('idx_profiles_phone', 'profiles', ['phone'], unique=False)
    op.create_index('idx_profiles_role', 'profiles', ['role'], unique=False)
    op.create_table('rag_chunks',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('chunk_index', sa.Integer(), nullable=False),
    sa.Column('embedding', Vector(1536), nullable=True),
    sa.Column('embedding_model', sa.Text(), nullable=True),
    sa.Column('content_tsv', postgresql.TSVECTOR(), sa.Computed("to_tsvector('english'::regconfig, content)", persisted=True), nullable=True),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('chunk_index >= 0', name=op.f('ck_rag_chunks_chunk_index')),
    sa.ForeignKeyConstraint(['document_id'], ['rag_documents.id'], name=op.f('fk_rag_chunks_document_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rag_chunks')),
    sa.UniqueConstraint('document_id', 'chunk_index', name='uq_rag_chunks_document_chunk')
    )
    op.create_index('idx_rag_chunks_content_tsv', 'rag_chunks', ['content_tsv'], unique=False, postgresql_using='gin')
    op.create_index('idx_rag_chunks_document', 'rag_chunks', ['document_id'], unique=False)
    op.create_index('idx_rag_chunks_embedding', 'rag_chunks', ['embedding'], unique=False, postgresql_using='hnsw', postgresql_ops={'embedding': 'vector_cosine_ops'})
    op.create_table('signatures',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('signer_id', sa.Uuid(), nullable=False),
    sa.Column('signer_role', sa.Text(), nullable=False),
    sa.Column('document_type', sa.Text(), nullable=False),
    sa.Column('document_id', sa.Uuid(), nullable=False),
    sa.Column('signature_url', sa.Text(), nullable=False),
    sa.Column('signature_image_sha256', sa.Text(), nullable=True),
    sa.Column('timestamp_utc', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ip_address', postgresql.INET(), nullable=True),
    sa.Column('user_agent', sa.Text(), nullable=True),
    sa.Column('device_info', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('gps_latitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('gps_longitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('correction_of', sa.Uuid(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('chain', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('previous_hash', sa.Text(), nullable=False),
    sa.Column('record_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("document_type IN ('lesson', 'competency', 'certificate', 'enrollment')", name=op.f('ck_signatures_document_type')),
    sa.CheckConstraint("signer_role IN ('instructor', 'student')", name=op.f('ck_signatures_signer_role')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_signatures_seq')),
    sa.ForeignKeyConstraint(['correction_of'], ['signatures.id'], name=op.f('fk_signatures_correction_of')),
    sa.ForeignKeyConstraint(['signer_id'], ['users.id'], name=op.f('fk_signatures_signer_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signatures')),
    sa.UniqueConstraint('chain', 'previous_hash', name='uq_signatures_chain_previous_hash'),
    sa.UniqueConstraint('chain', 'seq', name='uq_signatures_chain_seq')
    )
    op.create_index('idx_signatures_document', 'signatures', ['document_type', 'document_id'], unique=False)
    op.create_index('idx_signatures_signer', 'signatures', ['signer_id'], unique=False)
    op.create_index(op.f('ix_signatures_correction_of'), 'signatures', ['correction_of'], unique=False)
    op.create_table('instructors',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('lock_key', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('adi_number', sa.Text(), nullable=False),
    sa.Column('adi_expiry', sa.Date(), nullable=False),
    sa.Column('accreditation_number', sa.Text(), nullable=True),
    sa.Column('accreditation_expiry', sa.Date(), nullable=True),
    sa.Column('vehicle_rego', sa.Text(), nullable=True),
    sa.Column('vehicle_make', sa.Text(), nullable=True),
    sa.Column('vehicle_model', sa.Text(), nullable=True),
    sa.Column('vehicle_year', sa.Integer(), nullable=True),
    sa.Column('transmission', sa.Text(), nullable=True),
    sa.Column('is_owner', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('hourly_rate_cents', sa.Integer(), nullable=True),
    sa.Column('commission_rate', sa.Numeric(precision=5, scale=4), nullable=True),
    sa.Column('territory', sa.Text(), nullable=True),
    sa.Column('bio', sa.Text(), nullable=True),
    sa.Column('default_buffer_minutes', sa.Integer(), server_default=sa.text('15'), nullable=False),
    sa.Column('max_lessons_per_day', sa.Integer(), server_default=sa.text('8'), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'inactive', 'onboarding', 'suspended')", name=op.f('ck_instructors_status')),
    sa.CheckConstraint("transmission IN ('manual', 'auto', 'both')", name=op.f('ck_instructors_transmission')),
    sa.CheckConstraint('default_buffer_minutes >= 0', name=op.f('ck_instructors_default_buffer_minutes')),
    sa.CheckConstraint('hourly_rate_cents IS NULL OR hourly_rate_cents >= 0', name=op.f('ck_instructors_hourly_rate_cents')),
    sa.CheckConstraint('max_lessons_per_day > 0', name=op.f('ck_instructors_max_lessons_per_day')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_instructors_profile_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_instructors_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_instructors')),
    sa.UniqueConstraint('lock_key', name='uq_instructors_lock_key'),
    sa.UniqueConstraint('profile_id', name=op.f('uq_instructors_profile_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_instructors_user_id'))
    )
    op.create_index('idx_instructors_adi_number', 'instructors', ['adi_number'], unique=False)
    op.create_table('parents',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('licence_type', sa.Text(), nullable=True),
    sa.Column('years_driving', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_parents_profile_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_parents_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parents')),
    sa.UniqueConstraint('profile_id', name=op.f('uq_parents_profile_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_parents_user_id'))
    )
    op.create_table('availability_overrides',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('override_type', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("override_type IN ('blocked', 'available')", name=op.f('ck_availability_overrides_override_type')),
    sa.CheckConstraint('(start_time IS NULL AND end_time IS NULL) OR (start_time IS NOT NULL AND end_time IS NOT NULL AND end_time > start_time)', name=op.f('ck_availability_overrides_time_range')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_availability_overrides_instructor_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_overrides'))
    )
    op.create_index('idx_avail_overrides_date', 'availability_overrides', ['date'], unique=False)
    op.create_index('idx_avail_overrides_instructor', 'availability_overrides', ['instructor_id'], unique=False)
    op.create_table('availability_rules',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('day_of_week', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('effective_from', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('effective_until', sa.Date(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('day_of_week BETWEEN 0 AND 6', name=op.f('ck_availability_rules_day_of_week')),
    sa.CheckConstraint('effective_until IS NULL OR effective_until >= effective_from', name=op.f('ck_availability_rules_effective_order')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_availability_rules_time_order')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_availability_rules_instructor_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_rules'))
    )
    op.create_index('idx_avail_rules_day', 'availability_rules', ['day_of_week'], unique=False)
    op.create_index('idx_avail_rules_instructor', 'availability_rules', ['instructor_id'], unique=False)
    op.create_table('contacts',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('instructor_id', sa.Uuid(), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=True),
    sa.Column('last_name', sa.Text(), nullable=True),
    sa.Column('full_name', sa.Text(), sa.Computed("NULLIF(btrim(COALESCE(first_name, '') || ' ' || COALESCE(last_name, '')), '')", persisted=True), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('lifecycle_stage', sa.Text(), server_default=sa.text("'prospect'"), nullable=False),
    sa.Column('lead_score', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('source_detail', sa.Text(), nullable=True),
    sa.Column('utm_source', sa.Text(), nullable=True),
    sa.Column('utm_medium', sa.Text(), nullable=True),
    sa.Column('utm_campaign', sa.Text(), nullable=True),
    sa.Column('first_contact_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_contact_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('total_interactions', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("lifecycle_stage IN ('prospect', 'lead', 'qualified', 'enrolled', 'active', 'completed', 'alumni', 'lost')", name=op.f('ck_contacts_lifecycle_stage')),
    sa.CheckConstraint('total_interactions >= 0', name=op.f('ck_contacts_total_interactions')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_contacts_instructor_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_contacts_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts'))
    )
    op.create_index('idx_contacts_email', 'contacts', ['email'], unique=False)
    op.create_index('idx_contacts_instructor_id', 'contacts', ['instructor_id'], unique=False)
    op.create_index('idx_contacts_lifecycle', 'contacts', ['lifecycle_stage'], unique=False)
    op.create_index('idx_contacts_phone', 'contacts', ['phone'], unique=False)
    op.create_index('idx_contacts_user_id', 'contacts', ['user_id'], unique=False)
    op.create_table('students',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('profile_id', sa.Uuid(), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('licence_number', sa.Text(), nullable=True),
    sa.Column('licence_type', sa.Text(), nullable=True),
    sa.Column('licence_expiry', sa.Date(), nullable=True),
    sa.Column('transmission', sa.Text(), server_default=sa.text("'auto'"), nullable=False),
    sa.Column('school_or_work', sa.Text(), nullable=True),
    sa.Column('total_hours', sa.Numeric(precision=6, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('night_hours', sa.Numeric(precision=6, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('professional_hours', sa.Numeric(precision=6, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('parent_visibility', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('enrollment_date', sa.Date(), server_default=sa.text('CURRENT_DATE'), nullable=False),
    sa.Column('estimated_test_date', sa.Date(), nullable=True),
    sa.Column('completion_date', sa.Date(), nullable=True),
    sa.Column('certificate_issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('certificate_number', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('referral_source', sa.Text(), nullable=True),
    sa.Column('referral_detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("licence_type IN ('learner', 'provisional', 'full')", name=op.f('ck_students_licence_type')),
    sa.CheckConstraint("status IN ('active', 'inactive', 'completed', 'suspended', 'archived')", name=op.f('ck_students_status')),
    sa.CheckConstraint("transmission IN ('manual', 'auto')", name=op.f('ck_students_transmission')),
    sa.CheckConstraint('total_hours >= 0 AND night_hours >= 0 AND professional_hours >= 0', name=op.f('ck_students_hours_non_negative')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_students_instructor_id')),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_students_profile_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_students_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_students')),
    sa.UniqueConstraint('profile_id', name=op.f('uq_students_profile_id')),
    sa.UniqueConstraint('user_id', name=op.f('uq_students_user_id'))
    )
    op.create_index('idx_students_instructor_id', 'students', ['instructor_id'], unique=False)
    op.create_index('idx_students_licence_number', 'students', ['licence_number'], unique=False)
    op.create_index('idx_students_status', 'students', ['status'], unique=False)
    op.create_table('bookings',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('instructor_key', sa.BigInteger(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('scheduled_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hold_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('pickup_address', sa.Text(), nullable=True),
    sa.Column('suburb', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'held'"), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.Uuid(), nullable=True),
    sa.Column('cancellation_reason', sa.Text(), nullable=True),
    sa.Column('rescheduled_from_id', sa.Uuid(), nullable=True),
    sa.Column('payment_status', sa.Text(), server_default=sa.text("'unpaid'"), nullable=False),
    sa.Column('payment_id', sa.Uuid(), nullable=True),
    sa.Column('amount_cents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('booked_via', sa.Text(), server_default=sa.text("'website'"), nullable=False),
    sa.Column('booked_by', sa.Uuid(), nullable=True),
    sa.Column('is_co_lesson', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('co_lesson_parent_id', sa.Uuid(), nullable=True),
    sa.Column('booking_notes', sa.Text(), nullable=True),
    sa.Column('admin_notes', sa.Text(), nullable=True),
    sa.Column('lesson_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("booked_via IN ('website', 'phone', 'sms', 'voice_agent', 'admin', 'walk_in')", name=op.f('ck_bookings_booked_via')),
    sa.CheckConstraint("payment_status IN ('unpaid', 'deposit_paid', 'paid', 'package_credit', 'refunded', 'waived')", name=op.f('ck_bookings_payment_status')),
    sa.CheckConstraint("status <> 'held' OR hold_expires_at IS NOT NULL", name=op.f('ck_bookings_hold_expiry')),
    sa.CheckConstraint("status IN ('held', 'expired', 'pending', 'confirmed', 'in_progress', 'completed', 'cancelled', 'no_show', 'rescheduled')", name=op.f('ck_bookings_status')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_bookings_amount_cents')),
    sa.CheckConstraint('blocked_until >= end_time', name=op.f('ck_bookings_blocked_until')),
    sa.CheckConstraint('buffer_minutes >= 0', name=op.f('ck_bookings_buffer_minutes')),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_bookings_duration_minutes')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_bookings_time_order')),
    sa.ForeignKeyConstraint(['booked_by'], ['users.id'], name=op.f('fk_bookings_booked_by')),
    sa.ForeignKeyConstraint(['cancelled_by'], ['users.id'], name=op.f('fk_bookings_cancelled_by')),
    sa.ForeignKeyConstraint(['co_lesson_parent_id'], ['parents.id'], name=op.f('fk_bookings_co_lesson_parent_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_bookings_contact_id')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_bookings_instructor_id')),
    sa.ForeignKeyConstraint(['rescheduled_from_id'], ['bookings.id'], name=op.f('fk_bookings_rescheduled_from_id')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_bookings_service_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_bookings_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    op.create_index('idx_bookings_hold_expires_at', 'bookings', ['hold_expires_at'], unique=False, postgresql_where=sa.text("status = 'held'"))
    op.create_index('idx_bookings_instructor_id', 'bookings', ['instructor_id'], unique=False)
    op.create_index('idx_bookings_scheduled_date', 'bookings', ['scheduled_date'], unique=False)
    op.create_index('idx_bookings_start_time', 'bookings', ['start_time'], unique=False)
    op.create_index('idx_bookings_status', 'bookings', ['status'], unique=False)
    op.create_index('idx_bookings_student_id', 'bookings', ['student_id'], unique=False)
    op.create_index(op.f('ix_bookings_booked_by'), 'bookings', ['booked_by'], unique=False)
    op.create_index(op.f('ix_bookings_cancelled_by'), 'bookings', ['cancelled_by'], unique=False)
    op.create_index(op.f('ix_bookings_co_lesson_parent_id'), 'bookings', ['co_lesson_parent_id'], unique=False)
    op.create_index(op.f('ix_bookings_contact_id'), 'bookings', ['contact_id'], unique=False)
    op.create_index(op.f('ix_bookings_lesson_id'), 'bookings', ['lesson_id'], unique=False)
    op.create_index(op.f('ix_bookings_payment_id'), 'bookings', ['payment_id'], unique=False)
    op.create_index(op.f('ix_bookings_rescheduled_from_id'), 'bookings', ['rescheduled_from_id'], unique=False)
    op.create_index(op.f('ix_bookings_service_id'), 'bookings', ['service_id'], unique=False)
    op.create_table('conversations',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('channel_identifier', sa.Text(), nullable=True),
    sa.Column('mode', sa.Text(), server_default=sa.text("'prospect'"), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('handoff_reason', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('message_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'web_chat', 'voice')", name=op.f('ck_conversations_channel')),
    sa.CheckConstraint("mode IN ('prospect', 'student', 'parent')", name=op.f('ck_conversations_mode')),
    sa.CheckConstraint("status IN ('active', 'handoff_requested', 'closed')", name=op.f('ck_conversations_status')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_conversations_contact_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_conversations_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations'))
    )
    op.create_index('idx_conv_channel', 'conversations', ['channel', 'channel_identifier'], unique=False)
    op.create_index('idx_conv_contact', 'conversations', ['contact_id'], unique=False)
    op.create_index('idx_conv_status', 'conversations', ['status'], unique=False)
    op.create_index(op.f('ix_conversations_user_id'), 'conversations', ['user_id'], unique=False)
    op.create_table('marketing_consents',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('consent_text', sa.Text(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_source', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f('ck_marketing_consents_channel')),
    sa.CheckConstraint('contact_id IS NOT NULL OR user_id IS NOT NULL', name=op.f('ck_marketing_consents_who')),
    sa.CheckConstraint('revoked_at IS NULL OR revoked_at >= granted_at', name=op.f('ck_marketing_consents_revoked_after_granted')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_marketing_consents_contact_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_marketing_consents_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_marketing_consents'))
    )
    op.create_index('ix_marketing_consents_channel_recipient', 'marketing_consents', ['channel', 'recipient'], unique=False)
    op.create_index(op.f('ix_marketing_consents_contact_id'), 'marketing_consents', ['contact_id'], unique=False)
    op.create_index(op.f('ix_marketing_consents_user_id'), 'marketing_consents', ['user_id'], unique=False)
    op.create_table('parent_invitations',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('relationship', sa.Text(), server_default=sa.text("'parent'"), nullable=False),
    sa.Column('permissions', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('invited_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_parent_id', sa.Uuid(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("relationship IN ('parent', 'guardian', 'supervisor', 'other')", name=op.f('ck_parent_invitations_relationship')),
    sa.ForeignKeyConstraint(['accepted_parent_id'], ['parents.id'], name=op.f('fk_parent_invitations_accepted_parent_id')),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['users.id'], name=op.f('fk_parent_invitations_invited_by_user_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_parent_invitations_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_invitations')),
    sa.UniqueConstraint('token_hash', name='uq_parent_invitations_token_hash')
    )
    op.create_index(op.f('ix_parent_invitations_accepted_parent_id'), 'parent_invitations', ['accepted_parent_id'], unique=False)
    op.create_index('ix_parent_invitations_email', 'parent_invitations', [sa.literal_column('lower(email)')], unique=False)
    op.create_index(op.f('ix_parent_invitations_invited_by_user_id'), 'parent_invitations', ['invited_by_user_id'], unique=False)
    op.create_index(op.f('ix_parent_invitations_student_id'), 'parent_invitations', ['student_id'], unique=False)
    op.create_table('parent_student_links',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('relationship', sa.Text(), server_default=sa.text("'parent'"), nullable=False),
    sa.Column('can_view_progress', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('can_view_bookings', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('can_view_payments', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('can_view_lesson_notes', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('can_view_bridge_forms', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('can_book_lessons', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('invited_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("relationship IN ('parent', 'guardian', 'supervisor', 'other')", name=op.f('ck_parent_student_links_relationship')),
    sa.CheckConstraint("status IN ('pending', 'active', 'revoked')", name=op.f('ck_parent_student_links_status')),
    sa.ForeignKeyConstraint(['parent_id'], ['parents.id'], name=op.f('fk_parent_student_links_parent_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_parent_student_links_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_parent_student_links')),
    sa.UniqueConstraint('parent_id', 'student_id', name='uq_parent_student_links_parent_student')
    )
    op.create_index('idx_psl_student_id', 'parent_student_links', ['student_id'], unique=False)
    op.create_table('self_assessments',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('assessment_type', sa.Text(), nullable=False),
    sa.Column('responses', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_instructor', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("assessment_type IN ('pre_review_1_17', 'pre_review_1_22', 'pre_final_drive', 'general')", name=op.f('ck_self_assessments_assessment_type')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_self_assessments_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessments'))
    )
    op.create_index('idx_sa_student', 'self_assessments', ['student_id'], unique=False)
    op.create_table('waitlist',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('instructor_id', sa.Uuid(), nullable=True),
    sa.Column('preferred_day', sa.Integer(), nullable=True),
    sa.Column('preferred_time_start', sa.Time(), nullable=True),
    sa.Column('preferred_time_end', sa.Time(), nullable=True),
    sa.Column('service_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'waiting'"), nullable=False),
    sa.Column('notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'notified', 'booked', 'expired', 'cancelled')", name=op.f('ck_waitlist_status')),
    sa.CheckConstraint('preferred_day IS NULL OR preferred_day BETWEEN 0 AND 6', name=op.f('ck_waitlist_preferred_day')),
    sa.CheckConstraint('student_id IS NOT NULL OR contact_id IS NOT NULL', name=op.f('ck_waitlist_who')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_waitlist_contact_id')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_waitlist_instructor_id')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_waitlist_service_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_waitlist_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist'))
    )
    op.create_index('idx_waitlist_instructor', 'waitlist', ['instructor_id'], unique=False)
    op.create_index('idx_waitlist_status', 'waitlist', ['status'], unique=False)
    op.create_index(op.f('ix_waitlist_contact_id'), 'waitlist', ['contact_id'], unique=False)
    op.create_index(op.f('ix_waitlist_service_id'), 'waitlist', ['service_id'], unique=False)
    op.create_index(op.f('ix_waitlist_student_id'), 'waitlist', ['student_id'], unique=False)
    op.create_table('call_logs',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('conversation_id', sa.Uuid(), nullable=True),
    sa.Column('caller_phone', sa.Text(), nullable=False),
    sa.Column('call_direction', sa.Text(), server_default=sa.text("'inbound'"), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Text(), server_default=sa.text("'answered'"), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('caller_name', sa.Text(), nullable=True),
    sa.Column('caller_reason', sa.Text(), nullable=True),
    sa.Column('voice_provider', sa.Text(), nullable=True),
    sa.Column('external_call_id', sa.Text(), nullable=True),
    sa.Column('requires_callback', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('callback_scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('callback_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("call_direction IN ('inbound', 'outbound')", name=op.f('ck_call_logs_call_direction')),
    sa.CheckConstraint("outcome IN ('answered', 'voicemail', 'missed', 'failed')", name=op.f('ck_call_logs_outcome')),
    sa.CheckConstraint("resolution IN ('resolved', 'booking_made', 'message_taken', 'callback_scheduled', 'transferred', 'hung_up')", name=op.f('ck_call_logs_resolution')),
    sa.CheckConstraint('duration_seconds IS NULL OR duration_seconds >= 0', name=op.f('ck_call_logs_duration_seconds')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_call_logs_contact_id')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_call_logs_conversation_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_logs'))
    )
    op.create_index('idx_calls_caller_phone', 'call_logs', ['caller_phone'], unique=False)
    op.create_index('idx_calls_contact', 'call_logs', ['contact_id'], unique=False)
    op.create_index('idx_calls_requires_callback', 'call_logs', ['requires_callback'], unique=False, postgresql_where=sa.text('requires_callback = true'))
    op.create_index('idx_calls_started', 'call_logs', ['started_at'], unique=False)
    op.create_index(op.f('ix_call_logs_conversation_id'), 'call_logs', ['conversation_id'], unique=False)
    op.create_index('uq_call_logs_external_call_id', 'call_logs', ['voice_provider', 'external_call_id'], unique=True, postgresql_where=sa.text('external_call_id IS NOT NULL'))
    op.create_table('lessons',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('lesson_number', sa.Integer(), nullable=False),
    sa.Column('lesson_date', sa.Date(), nullable=False),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_minutes', sa.Integer(), nullable=False),
    sa.Column('rounded_minutes', sa.Integer(), nullable=True),
    sa.Column('odo_start', sa.Integer(), nullable=True),
    sa.Column('odo_end', sa.Integer(), nullable=True),
    sa.Column('total_km', sa.Integer(), sa.Computed('odo_end - odo_start', persisted=True), nullable=True),
    sa.Column('competencies_taught', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('competencies_assessed', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('competencies_achieved_manual', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('competencies_achieved_auto', sa.ARRAY(sa.Integer()), server_default=sa.text("'{}'::integer[]"), nullable=False),
    sa.Column('location_suburb', sa.Text(), nullable=True),
    sa.Column('location_detail', sa.Text(), nullable=True),
    sa.Column('comments', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'draft'"), nullable=False),
    sa.Column('instructor_signature_id', sa.Uuid(), nullable=True),
    sa.Column('student_signature_id', sa.Uuid(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_info', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('gps_latitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('gps_longitude', sa.Numeric(precision=10, scale=7), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('correction_of', sa.Uuid(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.CheckConstraint("status IN ('draft', 'pending_student_signature', 'completed', 'disputed')", name=op.f('ck_lessons_status')),
    sa.CheckConstraint('correction_of IS NULL OR correction_reason IS NOT NULL', name=op.f('ck_lessons_correction_reason')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_lessons_time_order')),
    sa.CheckConstraint('lesson_number > 0', name=op.f('ck_lessons_lesson_number')),
    sa.CheckConstraint('odo_end IS NULL OR odo_start IS NULL OR odo_end >= odo_start', name=op.f('ck_lessons_odometer')),
    sa.CheckConstraint('total_minutes > 0', name=op.f('ck_lessons_total_minutes')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_lessons_booking_id')),
    sa.ForeignKeyConstraint(['correction_of'], ['lessons.id'], name=op.f('fk_lessons_correction_of')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_lessons_instructor_id')),
    sa.ForeignKeyConstraint(['instructor_signature_id'], ['signatures.id'], name=op.f('fk_lessons_instructor_signature_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_lessons_student_id')),
    sa.ForeignKeyConstraint(['student_signature_id'], ['signatures.id'], name=op.f('fk_lessons_student_signature_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lessons'))
    )
    op.create_index('idx_lessons_booking_id', 'lessons', ['booking_id'], unique=False)
    op.create_index('idx_lessons_date', 'lessons', ['lesson_date'], unique=False)
    op.create_index('idx_lessons_instructor_id', 'lessons', ['instructor_id'], unique=False)
    op.create_index('idx_lessons_student_id', 'lessons', ['student_id'], unique=False)
    op.create_index('idx_lessons_student_number', 'lessons', ['student_id', 'lesson_number'], unique=True, postgresql_where=sa.text('correction_of IS NULL'))
    op.create_index(op.f('ix_lessons_correction_of'), 'lessons', ['correction_of'], unique=False)
    op.create_index(op.f('ix_lessons_instructor_signature_id'), 'lessons', ['instructor_signature_id'], unique=False)
    op.create_index(op.f('ix_lessons_student_signature_id'), 'lessons', ['student_signature_id'], unique=False)
    op.create_table('messages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('conversation_id', sa.Uuid(), nullable=False),
    sa.Column('direction', sa.Text(), nullable=False),
    sa.Column('sender_type', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('rag_sources', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('confidence', sa.Numeric(precision=3, scale=2), nullable=True),
    sa.Column('intent_detected', sa.Text(), nullable=True),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('delivery_status', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_messages_direction')),
    sa.CheckConstraint("sender_type IN ('user', 'ai', 'system')", name=op.f('ck_messages_sender_type')),
    sa.CheckConstraint('confidence IS NULL OR (confidence >= 0 AND confidence <= 1)', name=op.f('ck_messages_confidence')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_messages_conversation_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    op.create_index('idx_messages_conversation', 'messages', ['conversation_id'], unique=False)
    op.create_index('idx_messages_created', 'messages', ['created_at'], unique=False)
    op.create_index('idx_messages_external_id', 'messages', ['external_id'], unique=False, postgresql_where=sa.text('external_id IS NOT NULL'))
    op.create_table('outbox_messages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('recipient', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('template', sa.Text(), nullable=True),
    sa.Column('template_data', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('related_type', sa.Text(), nullable=True),
    sa.Column('related_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('provider_message_id', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.Text(), nullable=True),
    sa.Column('is_marketing', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'email', 'in_app')", name=op.f('ck_outbox_messages_channel')),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'suppressed')", name=op.f('ck_outbox_messages_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_messages_attempts')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_outbox_messages_booking_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_outbox_messages_contact_id')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_messages_user_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('idempotency_key', name='uq_outbox_messages_idempotency_key')
    )
    op.create_index(op.f('ix_outbox_messages_booking_id'), 'outbox_messages', ['booking_id'], unique=False)
    op.create_index(op.f('ix_outbox_messages_contact_id'), 'outbox_messages', ['contact_id'], unique=False)
    op.create_index('ix_outbox_messages_pending_next_attempt', 'outbox_messages', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_outbox_messages_provider_message_id', 'outbox_messages', ['provider_message_id'], unique=False, postgresql_where=sa.text('provider_message_id IS NOT NULL'))
    op.create_index('ix_outbox_messages_status_created', 'outbox_messages', ['status', 'created_at'], unique=False)
    op.create_index(op.f('ix_outbox_messages_user_id'), 'outbox_messages', ['user_id'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('package_id', sa.Uuid(), nullable=True),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.Text(), server_default=sa.text("'AUD'"), nullable=False),
    sa.Column('payment_method', sa.Text(), nullable=False),
    sa.Column('gateway', sa.Text(), nullable=True),
    sa.Column('gateway_payment_id', sa.Text(), nullable=True),
    sa.Column('gateway_checkout_id', sa.Text(), nullable=True),
    sa.Column('gateway_response', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('refund_amount_cents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('refund_reason', sa.Text(), nullable=True),
    sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("payment_method IN ('card', 'direct_debit', 'afterpay', 'paypal', 'package_credit', 'voucher', 'cash', 'other')", name=op.f('ck_payments_payment_method')),
    sa.CheckConstraint("status IN ('pending', 'processing', 'completed', 'failed', 'refunded', 'partially_refunded', 'disputed')", name=op.f('ck_payments_status')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_payments_amount_cents')),
    sa.CheckConstraint('refund_amount_cents >= 0 AND refund_amount_cents <= amount_cents', name=op.f('ck_payments_refund_amount_cents')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_payments_booking_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_payments_contact_id')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_payments_package_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_payments_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )
    op.create_index('idx_payments_booking_id', 'payments', ['booking_id'], unique=False)
    op.create_index('idx_payments_created', 'payments', ['created_at'], unique=False)
    op.create_index('idx_payments_status', 'payments', ['status'], unique=False)
    op.create_index('idx_payments_student_id', 'payments', ['student_id'], unique=False)
    op.create_index(op.f('ix_payments_contact_id'), 'payments', ['contact_id'], unique=False)
    op.create_index(op.f('ix_payments_package_id'), 'payments', ['package_id'], unique=False)
    op.create_index('uq_payments_gateway_checkout_id', 'payments', ['gateway', 'gateway_checkout_id'], unique=True, postgresql_where=sa.text('gateway_checkout_id IS NOT NULL'))
    op.create_index('uq_payments_gateway_payment_id', 'payments', ['gateway', 'gateway_payment_id'], unique=True, postgresql_where=sa.text('gateway_payment_id IS NOT NULL'))
    op.create_table('invoices',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('invoice_number', sa.Text(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('subtotal_cents', sa.Integer(), nullable=False),
    sa.Column('gst_cents', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('is_tax_invoice', sa.Boolean(), nullable=False),
    sa.Column('line_items', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('business_snapshot', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('buyer_snapshot', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('pdf_storage_key', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('is_tax_invoice OR gst_cents = 0', name=op.f('ck_invoices_gst_only_on_tax_invoice')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_invoices_seq')),
    sa.CheckConstraint('subtotal_cents >= 0 AND gst_cents >= 0 AND total_cents = subtotal_cents + gst_cents', name=op.f('ck_invoices_amounts')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_invoices_contact_id')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_invoices_payment_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_invoices_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('invoice_number', name='uq_invoices_invoice_number'),
    sa.UniqueConstraint('payment_id', name='uq_invoices_payment_id'),
    sa.UniqueConstraint('year', 'seq', name='uq_invoices_year_seq')
    )
    op.create_index(op.f('ix_invoices_contact_id'), 'invoices', ['contact_id'], unique=False)
    op.create_index(op.f('ix_invoices_student_id'), 'invoices', ['student_id'], unique=False)
    op.create_table('lesson_bridge_forms',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('lesson_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('skills_covered', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('positives', sa.Text(), nullable=True),
    sa.Column('practice_instructions', sa.Text(), nullable=True),
    sa.Column('focus_areas', sa.Text(), nullable=True),
    sa.Column('next_lesson_recommendation', sa.Text(), nullable=True),
    sa.Column('pdf_url', sa.Text(), nullable=True),
    sa.Column('is_visible_to_student', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('is_visible_to_parent', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_lesson_bridge_forms_instructor_id')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_bridge_forms_lesson_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_lesson_bridge_forms_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_bridge_forms')),
    sa.UniqueConstraint('lesson_id', name='uq_lesson_bridge_forms_lesson_id')
    )
    op.create_index('idx_lbf_student', 'lesson_bridge_forms', ['student_id'], unique=False)
    op.create_index(op.f('ix_lesson_bridge_forms_instructor_id'), 'lesson_bridge_forms', ['instructor_id'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('recipient_id', sa.Uuid(), nullable=True),
    sa.Column('recipient_contact_id', sa.Uuid(), nullable=True),
    sa.Column('recipient_phone', sa.Text(), nullable=True),
    sa.Column('recipient_email', sa.Text(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=False),
    sa.Column('notification_type', sa.Text(), nullable=False),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('external_id', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_reason', sa.Text(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('triggered_by', sa.Text(), nullable=True),
    sa.Column('related_id', sa.Uuid(), nullable=True),
    sa.Column('outbox_message_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms', 'push', 'in_app')", name=op.f('ck_notifications_channel')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'delivered', 'failed', 'bounced')", name=op.f('ck_notifications_status')),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['outbox_messages.id'], name=op.f('fk_notifications_outbox_message_id')),
    sa.ForeignKeyConstraint(['recipient_contact_id'], ['contacts.id'], name=op.f('fk_notifications_recipient_contact_id')),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('idx_notif_recipient', 'notifications', ['recipient_id'], unique=False)
    op.create_index('idx_notif_status', 'notifications', ['status'], unique=False)
    op.create_index('idx_notif_type', 'notifications', ['notification_type'], unique=False)
    op.create_index(op.f('ix_notifications_outbox_message_id'), 'notifications', ['outbox_message_id'], unique=False)
    op.create_index(op.f('ix_notifications_recipient_contact_id'), 'notifications', ['recipient_contact_id'], unique=False)
    op.create_table('private_notes',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('lesson_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('note_type', sa.Text(), server_default=sa.text("'general'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("note_type IN ('general', 'lesson_specific', 'safety_concern', 'coaching_strategy', 'personal_interest')", name=op.f('ck_private_notes_note_type')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_private_notes_instructor_id')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_private_notes_lesson_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_private_notes_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_private_notes'))
    )
    op.create_index('idx_pn_instructor', 'private_notes', ['instructor_id'], unique=False)
    op.create_index('idx_pn_lesson', 'private_notes', ['lesson_id'], unique=False)
    op.create_index('idx_pn_student', 'private_notes', ['student_id'], unique=False)
    op.create_table('student_competencies',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('task_id', sa.Uuid(), nullable=False),
    sa.Column('instructor_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('transmission', sa.Text(), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('lesson_id', sa.Uuid(), nullable=True),
    sa.Column('signed_by_instructor', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('signed_by_student', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('signature_id', sa.Uuid(), nullable=True),
    sa.Column('correction_of', sa.Uuid(), nullable=True),
    sa.Column('correction_reason', sa.Text(), nullable=True),
    sa.Column('chain', sa.Text(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('previous_hash', sa.Text(), nullable=False),
    sa.Column('record_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('not_started', 'taught', 'assessed', 'competent', 'not_yet_competent')", name=op.f('ck_student_competencies_status')),
    sa.CheckConstraint("transmission IN ('manual', 'auto')", name=op.f('ck_student_competencies_transmission')),
    sa.CheckConstraint('seq > 0', name=op.f('ck_student_competencies_seq')),
    sa.ForeignKeyConstraint(['correction_of'], ['student_competencies.id'], name=op.f('fk_student_competencies_correction_of')),
    sa.ForeignKeyConstraint(['instructor_id'], ['instructors.id'], name=op.f('fk_student_competencies_instructor_id')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_student_competencies_lesson_id')),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_student_competencies_signature_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_student_competencies_student_id')),
    sa.ForeignKeyConstraint(['task_id'], ['competency_tasks.id'], name=op.f('fk_student_competencies_task_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student_competencies')),
    sa.UniqueConstraint('chain', 'previous_hash', name='uq_student_competencies_chain_previous_hash'),
    sa.UniqueConstraint('chain', 'seq', name='uq_student_competencies_chain_seq')
    )
    op.create_index('idx_sc_status', 'student_competencies', ['status'], unique=False)
    op.create_index('idx_sc_student_id', 'student_competencies', ['student_id'], unique=False)
    op.create_index('idx_sc_student_task', 'student_competencies', ['student_id', 'task_id'], unique=False)
    op.create_index('idx_sc_task_id', 'student_competencies', ['task_id'], unique=False)
    op.create_index(op.f('ix_student_competencies_correction_of'), 'student_competencies', ['correction_of'], unique=False)
    op.create_index(op.f('ix_student_competencies_instructor_id'), 'student_competencies', ['instructor_id'], unique=False)
    op.create_index(op.f('ix_student_competencies_lesson_id'), 'student_competencies', ['lesson_id'], unique=False)
    op.create_index(op.f('ix_student_competencies_signature_id'), 'student_competencies', ['signature_id'], unique=False)
    op.create_table('student_packages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=False),
    sa.Column('package_id', sa.Uuid(), nullable=False),
    sa.Column('payment_id', sa.Uuid(), nullable=True),
    sa.Column('credits_total', sa.Integer(), nullable=False),
    sa.Column('credits_used', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('credits_remaining', sa.Integer(), sa.Computed('credits_total - credits_used', persisted=True), nullable=True),
    sa.Column('purchased_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Text(), server_default=sa.text("'active'"), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('active', 'exhausted', 'expired', 'cancelled')", name=op.f('ck_student_packages_status')),
    sa.CheckConstraint('credits_used >= 0 AND credits_used <= credits_total', name=op.f('ck_student_packages_credits_used')),
    sa.ForeignKeyConstraint(['package_id'], ['packages.id'], name=op.f('fk_student_packages_package_id')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_student_packages_payment_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_student_packages_student_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student_packages'))
    )
    op.create_index('idx_sp_status', 'student_packages', ['status'], unique=False)
    op.create_index('idx_sp_student_id', 'student_packages', ['student_id'], unique=False)
    op.create_index(op.f('ix_student_packages_package_id'), 'student_packages', ['package_id'], unique=False)
    op.create_index(op.f('ix_student_packages_payment_id'), 'student_packages', ['payment_id'], unique=False)
    op.create_table('voucher_redemptions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('voucher_id', sa.Uuid(), nullable=False),
    sa.Column('student_id', sa.Uuid(), nullable=True),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('payment_id', sa.Uuid(), nullable=True),
    sa.Column('discount_cents', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('discount_cents >= 0', name=op.f('ck_voucher_redemptions_discount_cents')),
    sa.CheckConstraint('student_id IS NOT NULL OR contact_id IS NOT NULL', name=op.f('ck_voucher_redemptions_who')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_voucher_redemptions_booking_id')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_voucher_redemptions_contact_id')),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_voucher_redemptions_payment_id')),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_voucher_redemptions_student_id')),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], name=op.f('fk_voucher_redemptions_voucher_id')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_redemptions')),
    sa.UniqueConstraint('voucher_id', 'booking_id', name='uq_voucher_redemptions_voucher_booking')
    )
    op.create_index(op.f('ix_voucher_redemptions_booking_id'), 'voucher_redemptions', ['booking_id'], unique=False)
    op.create_index(op.f('ix_voucher_redemptions_contact_id'), 'voucher_redemptions', ['contact_id'], unique=False)
    op.create_index(op.f('ix_voucher_redemptions_payment_id'), 'voucher_redemptions', ['payment_id'], unique=False)
    op.create_index(op.f('ix_voucher_redemptions_student_id'), 'voucher_redemptions', ['student_id'], unique=False)
