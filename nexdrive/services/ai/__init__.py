"""The assistant: the knowledge engine and one conversation brain for web chat, SMS and voice (issue 15).

Public modules: knowledge (documents, indexing, hybrid search, answers with sources), conversation (intent,
booking through the scheduling engine, handoff, complaints, safety limits), sms (inbound texts), voice
(Vapi's assistant request, tool calls and call reports), owner_inbox (the owner's inbox: every conversation,
the handoff queue first, replies by SMS or email, the call log and the callback queue).
Called only by pages, the API, webhooks and jobs; it uses scheduling, crm, messaging, core and compliance.
"""
