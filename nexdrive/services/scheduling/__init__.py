"""When lessons can happen and who holds them: availability, public holidays, the instructor's schedule, the lesson catalogue, bookings, the waitlist, reminders and calendar files.

Never imports money: money settles a cancellation through the hook it registers in ``booking.register_cancellation_settler``.
Public modules: availability, holidays, schedule, catalogue, booking, waitlist, reminders, ics.
"""
