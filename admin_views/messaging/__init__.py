"""短信邮件: the send page (selection → confirmation → outbox) and bulk progress, the outbox and
未发出的短信 with retry, replies and the provider callback, templates and holiday greetings, SFA
plans, 拒收, mail accounts and settings — one module per page group, listed in menu order in
admin_views/__init__.py. Decisions are in rules/messaging.py and rules/sfa.py."""
