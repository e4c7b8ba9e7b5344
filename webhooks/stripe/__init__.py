"""Stripe: the payment webhook."""
