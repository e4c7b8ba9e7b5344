"""Provider webhooks, one folder per provider (router, recorded payloads, tests): Stripe, Twilio, next Vapi.

Each verifies the provider's signature on the raw body, records the event once (``core.inbound``) and calls
the same service as every other caller.
"""
