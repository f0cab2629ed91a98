"""The measures of `manage.py bench` (SPEC §7), in the column of a size (`sizes`: large or
xlarge, their bars): the machine's speed at the start and end (`machine`), the search terms
picked from the data (`terms`), the pages with their SQL time (`pages`), the users import
through its jobs beside django-import-export and the COPY floor (`imports`, `mapped`, `undo`),
the users export (`exports`), the printed report and the query counts against the other size
(`report`), and what keeps the bench to a database of its own (`database`). The load test
(`loadtest`, `locustfile`, `load_report`) lives here too.

They live in integrations, the app that may see every other one: the bench signs in, draws
account pages, imports and exports.
"""
