"""What builds the data sets of `seed_demo`: realistic names (names.py), the rows of a data set
as plain tuples (rows.py) and PostgreSQL's COPY loader for the big sets (copy_load.py).
contacts.demo holds the shapes and the ORM writer of the demo set."""
