"""Reading the Django admin's pages in tests: a changelist's rows, what a form would submit,
the page's headings, a field's errors, an autocomplete's answers."""

import re
from html import unescape
from html.parser import HTMLParser


class _TableRows(HTMLParser):
    """Text of each cell of each body row of one table (by id), as a person reads it: images
    by their alt text, inputs by their value; the admin's action checkbox left out."""

    def __init__(self, table_id):
        super().__init__(convert_charrefs=True)
        self.table_id = table_id
        self.depth = 0  # > 0 inside the table
        self.in_body = False
        self.rows = []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            if self.depth or attrs.get("id") == self.table_id:
                self.depth += 1
            return
        if not self.depth:
            return
        if tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag in ("td", "th"):
            self.cell = [] if attrs.get("class") != "action-checkbox" else None
        elif self.cell is not None and tag == "img":
            self.cell.append(attrs.get("alt") or "")
        elif self.cell is not None and tag == "input" and attrs.get("type") in ("text", "number"):
            self.cell.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if not self.depth:
            return
        if tag == "table":
            self.depth -= 1
        elif tag == "tbody":
            self.in_body = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def result_rows(response):
    parser = _TableRows("result_list")
    parser.feed(response.text)
    return parser.rows


class _FormData(HTMLParser):
    """What a browser submits from the form with `form_id` when nothing is changed."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data = {}
        self.select = None
        self.textarea = None

    def _keep(self, name):
        return self.inside and name and "__prefix__" not in name

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif tag == "input" and self._keep(name):
            kind = attrs.get("type", "text")
            if kind == "checkbox":
                if "checked" in attrs:
                    self.data[name] = attrs.get("value") or "on"
            elif kind != "submit":
                self.data[name] = attrs.get("value") or ""
        elif tag == "select" and self._keep(name):
            self.select = name
            self.data[name] = [] if "multiple" in attrs else ""
        elif tag == "option" and self.select and "selected" in attrs:
            if isinstance(self.data[self.select], list):
                self.data[self.select].append(attrs["value"])
            else:
                self.data[self.select] = attrs["value"]
        elif tag == "textarea" and self._keep(name):
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.removeprefix("\n")


def form_data(response, form_id):
    parser = _FormData(form_id)
    parser.feed(response.text)
    return parser.data


def headings(response):
    """The admin page's title (h1) and, on a change page, the object (h2 right after it)."""
    found = re.search(r"<h1>([^<]*)</h1>\s*(?:<h2>([^<]*)</h2>)?", response.text)
    return unescape(found.group(1)), unescape(found.group(2) or "")


def error_list(response, field_id):
    found = re.search(rf'<ul class="errorlist" id="{field_id}_error">(.*?)</ul>', response.text)
    return [unescape(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1))]


def autocomplete(client, model, field, term):
    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": model.split(".")[0],
            "model_name": model.split(".")[1],
            "field_name": field,
            "term": term,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["pagination"] == {"more": False}
    return [(int(result["id"]), result["text"]) for result in body["results"]]


def changelist_rows(client, model):
    """The rows of a changelist ("app/model"), once it answers 200."""
    response = client.get(f"/admin/{model}/")
    assert response.status_code == 200
    return result_rows(response)


def add_page_headings(client, model):
    response = client.get(f"/admin/{model}/add/")
    assert response.status_code == 200
    return headings(response)


def change_page(client, model, obj, fields):
    """The headings of an object's change page and the values its form shows for `fields`."""
    response = client.get(f"/admin/{model}/{obj.pk}/change/")
    assert response.status_code == 200
    shown = form_data(response, f"{model.split('/')[1]}_form")
    return headings(response), {name: shown.get(name) for name in fields}


def search_first_cells(client, path, column=0):
    return [row[column] for row in result_rows(client.get(path))]
