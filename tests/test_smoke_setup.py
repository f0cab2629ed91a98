def test_tree_fixture_is_a_valid_mptt_tree(tree):
    from accounts.models import Account

    assert tree["paris_sales"].get_ancestors().count() == 3
    before = list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level"))
    Account.objects.rebuild()
    after = list(Account.objects.values_list("pk", "tree_id", "lft", "rght", "level"))
    assert before == after
