"""Twilio: inbound SMS and delivery status callbacks."""
