"""Reading the HTML of responses in tests, built on django.test.html: parse a response, find
elements by tag and attributes, and read their attributes and text.

    from tests.html import element, elements, page, text

Attribute filters are keyword arguments: `class_="x"` matches one of the element's classes, a
trailing underscore is dropped (`for_="id"`) and other underscores stand for hyphens
(`aria_labelledby="h"`, `data_close_dialog=""`); a bare attribute such as `disabled` has the
value None.
"""

from django.test.html import Element, normalize_whitespace, parse_html


def parse(response):
    """The response's HTML, whatever its status."""
    return parse_html(response.content.decode())


def page(response, status=200):
    """The response's HTML, once its status is `status`."""
    assert response.status_code == status, response.status_code
    return parse(response)


def has_attributes(element, attrs):
    """Whether `element` has these attributes, given as {keyword name: value} (see above)."""
    present = dict(element.attributes)
    for name, value in attrs.items():
        if name == "class_":
            if value not in (present.get("class") or "").split():
                return False
        elif present.get(name.rstrip("_").replace("_", "-"), False) != value:
            return False
    return True


def elements(node, tag, *, itself=True, **attrs):
    """The elements with this tag and these attributes, in document order: `node` itself and
    every element under it; under it only with `itself=False`."""
    found = [node] if itself and node.name == tag and has_attributes(node, attrs) else []
    for child in node.children:
        if isinstance(child, Element):
            found += elements(child, tag, **attrs)
    return found


def element(node, tag, *, itself=True, **attrs):
    """The one element that `elements` finds; it fails if there is none or more than one."""
    (found,) = elements(node, tag, itself=itself, **attrs)
    return found


def attribute(element, name):
    """The value of an attribute (None for a bare one), or None when it is missing."""
    return dict(element.attributes).get(name)


def text(node):
    """The text of a node and everything under it, with its whitespace collapsed."""
    if isinstance(node, str):
        return node
    return normalize_whitespace(" ".join(text(child) for child in node.children)).strip()


def messages(response):
    """The texts of the messages (`li.message`) on a page answered with 200."""
    return [text(li) for li in elements(page(response), "li", class_="message")]


def count_line(response):
    """The text of the count line (`p.count`) of a page answered with 200."""
    return text(element(page(response), "p", class_="count"))


def vary(response):
    """The header names of a response's Vary header, in order."""
    return [value.strip() for value in response.headers.get("Vary", "").split(",")]
