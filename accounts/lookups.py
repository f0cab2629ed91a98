"""`field__in_array=queryset`: the rows of `field__in=queryset`, planned by the field's index.

On PostgreSQL it is `field = ANY(ARRAY(subquery))`: the subquery runs once, before the outer
query, and the planner cannot see through the array, so it takes the field's index for a short
list of values. With `IN (subquery)` it joins and trusts its estimate of the subquery's rows,
which for a range of the account tree (tree_id and lft/rght, which it takes for independent
columns) can be a hundred times too high: it then walks the people's name order looking for
contacts that are not there (1.2 s for a leaf account's people list, 4 ms this way). Elsewhere
it is `IN (subquery)`.
"""

from django.db import models
from django.db.models import Lookup


@models.BigAutoField.register_lookup
@models.AutoField.register_lookup
class InArray(Lookup):
    lookup_name = "in_array"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        rhs = rhs if rhs.startswith("(") else f"({rhs})"
        template = "{} = ANY(ARRAY{})" if connection.vendor == "postgresql" else "{} IN {}"
        return template.format(lhs, rhs), (*lhs_params, *rhs_params)
