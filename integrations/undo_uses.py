"""What keeps a row an undo would delete: its uses, counted by kind and said in words."""


class Uses(dict):
    """{key: {kind: count}}, said in words: "2 tasks and 1 touchpoint"."""

    def add(self, key, kind):
        kinds = self.setdefault(key, {})
        kinds[kind] = kinds.get(kind, 0) + 1

    def words(self, key):
        return " and ".join(
            f"{count} {kind}{'s' if count > 1 else ''}" for kind, count in self[key].items()
        )
