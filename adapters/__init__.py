"""Adapters: the application's file and network I/O (SMS gateways, SMTP, spreadsheet files,
SQLite backup files) behind small functions and classes that decide nothing.

Direction: an adapter imports nothing from rules/, admin_views/ or jobs/ (only the standard
library, its third-party library and flask_babel for the words of a refusal). The callers in
jobs/ and admin_views/ hand an adapter's results to rules/, or pass the adapter in where a rule
needs I/O (rules.backup takes a BackupFiles)."""
