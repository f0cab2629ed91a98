"""The measures of `manage.py bench` (SPEC §7): the pages (`pages`), the users import through
its jobs beside django-import-export and the COPY floor (`imports`), the users export
(`exports`), and what keeps the bench to a database of its own (`database`).

They live in integrations, the app that may see every other one: the bench signs in, draws
account pages, imports and exports.
"""
