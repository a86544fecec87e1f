"""The model's hooks, one per care rule that constrains the search: each ``add(m)`` adds its rule to a model being built."""
