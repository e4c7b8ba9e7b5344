"""When lessons can happen and who holds them: availability, public holidays, the instructor's schedule,
the lesson catalogue, bookings, the waitlist, reminders and calendar files.

Never imports money: cancelling publishes ``booking.cancelled`` (``core.events``) and money settles it.
Public modules: availability, holidays, schedule, catalogue, booking, waitlist, reminders, ics, workstation
(the instructor's phone: the week's snapshot and lessons handed in from its outbox), lesson_status
(start and complete a booked lesson).
"""
