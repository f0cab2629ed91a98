"""The layout rules of CONVENTIONS.md, read from the source: the direction of imports between the
apps, and the size of a module."""

import ast
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGES = ["config", "accounts", "contacts", "integrations"]
# Who may import whom: integrations → contacts → accounts → config, never back. config names the
# apps' URLconfs by string (include("contacts.urls")), which is not an import. Nothing imports
# the tests.
MAY_IMPORT = {
    "config": {"config"},
    "accounts": {"accounts", "config"},
    "contacts": {"contacts", "accounts", "config"},
    "integrations": {"integrations", "contacts", "accounts", "config"},
}
# The exception CONVENTIONS.md names: the pages that show contacts on an account (its profile
# with the Contacts widget, the tree with its contact counts) ask contacts for them. The admin's
# memberships inline on an account is added by contacts/admin.py, so accounts/admin.py is not one.
ACCOUNT_PAGES = {"accounts/views.py", "accounts/views"}
LIMIT = 400
REASON = f"Past {LIMIT} lines as one thing:"


def modules():
    """Every .py file of the apps and config, migrations left out."""
    for package in PACKAGES:
        for path in sorted((BASE_DIR / package).rglob("*.py")):
            if "migrations" not in path.relative_to(BASE_DIR).parts:
                yield path


def imported_packages(path):
    """The top-level package of every absolute import in the module, at any depth (imports
    inside functions count too), with the line it is on."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


def wrong_way_imports():
    wrong = []
    for path in modules():
        relative = path.relative_to(BASE_DIR)
        package = relative.parts[0]
        allowed = MAY_IMPORT[package]
        if {str(relative), "/".join(relative.parts[:2])} & ACCOUNT_PAGES:
            allowed = allowed | {"contacts"}
        for imported, line in imported_packages(path):
            if imported == "tests" or (imported in MAY_IMPORT and imported not in allowed):
                wrong.append(f"{relative}:{line} imports {imported}")
    return wrong


def test_imports_go_one_way_integrations_contacts_accounts_config():
    wrong = wrong_way_imports()

    assert wrong == [], "Imports against the direction:\n" + "\n".join(wrong)


def test_the_import_walk_sees_imports_inside_functions(tmp_path):
    module = tmp_path / "module.py"
    module.write_text("import os\n\ndef f():\n    from integrations.models import ImportJob\n")

    assert list(imported_packages(module)) == [("os", 1), ("integrations", 4)]


def long_modules_without_a_reason():
    """Modules over LIMIT lines whose first line does not say why they are one thing, in the
    words every such module opens with (REASON, in its docstring or a comment): a plain module
    docstring does not pass for a reason."""
    found = []
    for path in modules():
        lines = path.read_text().splitlines()
        first = lines[0] if lines else ""
        says_why = first.lstrip('"# ').startswith(REASON)
        if len(lines) > LIMIT and not says_why:
            found.append(f"{path.relative_to(BASE_DIR)} ({len(lines)} lines)")
    return found


def test_no_module_is_over_400_lines_without_saying_why_in_its_first_line():
    found = long_modules_without_a_reason()

    assert found == [], "Split by purpose, or say why not in the first line:\n" + "\n".join(found)
