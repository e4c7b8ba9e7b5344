"""All SQLModel tables. Importing this package makes ``SQLModel.metadata`` complete
(Alembic's ``env.py`` and the tests rely on that)."""
from __future__ import annotations

from sqlmodel import SQLModel

from nexdrive.models.accounts import AuthThrottleEvent
from nexdrive.models.base import utcnow
from nexdrive.models.booking import Booking, WaitlistEntry
from nexdrive.models.catalogue import (
    AvailabilityOverride,
    AvailabilityRule,
    CalendarDayVersion,
    CalendarVersion,
    InstructorService,
    Service,
)
from nexdrive.models.certificates import Certificate
from nexdrive.models.comms import (
    CallLog,
    Conversation,
    MarketingConsent,
    Message,
    Notification,
    NotificationPreference,
    OfflineDelivery,
    OutboxMessage,
)
from nexdrive.models.compliance import (
    AuditLog,
    ChainHead,
    CompetencyTask,
    Signature,
    StudentCompetency,
)
from nexdrive.models.content import BlogPost, FaqEntry, Testimonial
from nexdrive.models.crm import Contact
from nexdrive.models.logbook import SupervisedDrive
from nexdrive.models.lessons import (
    FinalDriveNotice,
    Lesson,
    LessonBridgeForm,
    LessonCounter,
    LessonDispute,
    PrivateNote,
    SelfAssessment,
)
from nexdrive.models.payments import (
    Invoice,
    InvoiceCounter,
    Package,
    Payment,
    Refund,
    StudentPackage,
    Voucher,
    VoucherRedemption,
)
from nexdrive.models.rag import RagChunk, RagDocument
from nexdrive.models.system import BusinessSettings, JobRun, PublicHoliday, WebhookEvent
from nexdrive.models.users import (
    AuthSession,
    Instructor,
    MagicLink,
    Parent,
    ParentInvitation,
    ParentStudentLink,
    Profile,
    Student,
    User,
)

metadata = SQLModel.metadata

# Tables that carry an updated_at column maintained by the set_updated_at() trigger.
UPDATED_AT_TABLES = tuple(
    sorted(t.name for t in metadata.sorted_tables if "updated_at" in t.c)
)
# Hash-chained, append-only tables (triggers in migration 0002).
CHAINED_TABLES = ("audit_log", "signatures", "student_competencies")

__all__ = [
    "BlogPost",
    "FaqEntry",
    "Testimonial",
    "AuthThrottleEvent",
    "AuditLog",
    "AuthSession",
    "AvailabilityOverride",
    "AvailabilityRule",
    "Booking",
    "BusinessSettings",
    "CHAINED_TABLES",
    "CallLog",
    "Certificate",
    "ChainHead",
    "CompetencyTask",
    "Contact",
    "Conversation",
    "FinalDriveNotice",
    "Instructor",
    "Invoice",
    "InvoiceCounter",
    "JobRun",
    "LessonCounter",
    "LessonDispute",
    "Lesson",
    "LessonBridgeForm",
    "MagicLink",
    "MarketingConsent",
    "Message",
    "Notification",
    "NotificationPreference",
    "OfflineDelivery",
    "OutboxMessage",
    "Package",
    "Parent",
    "ParentInvitation",
    "ParentStudentLink",
    "Payment",
    "PrivateNote",
    "Profile",
    "PublicHoliday",
    "Refund",
    "RagChunk",
    "RagDocument",
    "SQLModel",
    "SelfAssessment",
    "InstructorService",
    "CalendarDayVersion",
    "CalendarVersion",
    "Service",
    "Signature",
    "Student",
    "StudentCompetency",
    "SupervisedDrive",
    "StudentPackage",
    "UPDATED_AT_TABLES",
    "User",
    "Voucher",
    "VoucherRedemption",
    "WaitlistEntry",
    "WebhookEvent",
    "metadata",
    "utcnow",
]
