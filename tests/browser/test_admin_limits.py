"""The admin page's forms carry the limits of the models that validate them: every field's minimum,
maximum, pattern, length and required flag, as the browser shows them, are the pydantic model's,
read here from the models' own field metadata (not from the JSON schema the page is given)."""

from __future__ import annotations

import types
import typing
from typing import Any

from annotated_types import Ge, Le, MaxLen, MinLen
from pydantic import BaseModel

from dashboard.forms import MODELS
from tests.browser.test_admin import config_dir, log_in  # noqa: F401 (the admin tests' hall)

READ = """[...document.querySelectorAll('#fields .field')].map((f) => {
  const i = f.querySelector(':scope > input:not([type=checkbox]), :scope > textarea');
  if (!i) return null;
  const a = (n) => i.getAttribute(n);
  return {path: f.dataset.field, type: i.type, min: a('min'), max: a('max'), pattern: a('pattern'),
          minlength: a('minlength'), maxlength: a('maxlength'), required: i.hasAttribute('required')};
}).filter(Boolean)"""


def _model_in(annotation: Any) -> type[BaseModel]:
    for a in (annotation, *typing.get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    raise AssertionError(annotation)


def model_limits(model: type[BaseModel], path: str) -> dict[str, Any] | None:
    """A field's limits as its model declares them, in the form's attribute names; None when the
    path is not one field of the model (the item's windows, chosen on the item's form)."""
    parts = path.split(".")
    required = True
    for n, part in enumerate(parts):
        if part not in model.model_fields:
            return None
        field = model.model_fields[part]
        required = required and field.is_required()
        if n < len(parts) - 1:
            model = _model_in(field.annotation)
    out: dict[str, Any] = {"min": None, "max": None, "pattern": None, "minlength": None, "maxlength": None, "required": required}
    for m in field.metadata:
        if isinstance(m, Ge):
            out["min"] = str(m.ge)
        elif isinstance(m, Le):
            out["max"] = str(m.le)
        elif isinstance(m, MinLen):
            out["minlength"] = str(m.min_length)
        elif isinstance(m, MaxLen):
            out["maxlength"] = str(m.max_length)
        elif getattr(m, "pattern", None):
            out["pattern"] = m.pattern.replace("-]", "\\-]")  # a class's "-" escaped, as the v flag wants
    return out


def is_scalar(model: type[BaseModel], path: str) -> bool:
    """Numbers and strings carry limits as attributes; lists (written one a line) do not."""
    for part in path.split(".")[:-1]:
        model = _model_in(model.model_fields[part].annotation)
    annotation = model.model_fields[path.split(".")[-1]].annotation
    kinds = {a for a in (annotation, *typing.get_args(annotation)) if a is not types.NoneType}
    return bool(kinds) and kinds <= {int, str}


async def open_form(page, kind: str, entry: str | None) -> None:  # type: ignore[no-untyped-def]
    await page.click(f"[data-tab={kind}]")
    await page.click("#list [data-action=edit]" if entry is None else f"[data-list={kind}] tr[data-id={entry}] [data-action=edit]")
    await page.wait_for_selector("#editor:not([hidden])")


async def test_every_form_field_carries_its_models_limits(browser, server):
    page = await (await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")).new_page()
    await log_in(page, server.url)
    checked: dict[str, dict[str, Any]] = {}
    for kind, entry in (("hall", None), ("departments", "a"), ("items", "c1"), ("windows", "w2")):
        await open_form(page, kind, entry)
        for shown in await page.evaluate(READ):
            path = shown.pop("path")
            want = model_limits(MODELS[kind], path)
            if want is None or not is_scalar(MODELS[kind], path):
                continue
            shown.pop("type")
            assert shown == want, (kind, path)
            checked[f"{kind}.{path}"] = want
        await page.click("#cancel")

    # The limits the page used to write by hand, and had let drift, are the model's now.
    assert (checked["hall.voice.repeat"]["min"], checked["hall.voice.repeat"]["max"]) == ("1", "5")
    assert checked["hall.policy.priority_ratio"]["max"] == "20"
    assert checked["items.expected_service_s"]["max"] == str(4 * 3600)
    assert checked["items.id"]["required"] and checked["items.prefix"]["pattern"]
    assert checked["hall.notice"]["maxlength"] == "500"
    assert len(checked) >= 20, sorted(checked)


async def test_the_browser_applies_the_models_pattern(browser, server):
    page = await (await browser.new_context(viewport={"width": 1600, "height": 1000}, locale="zh-CN")).new_page()
    await log_in(page, server.url)
    await open_form(page, "items", "c1")
    mismatch = "document.querySelector('#editor [name=prefix]').validity.patternMismatch"
    await page.fill("#editor [name=prefix]", "e1")
    assert await page.evaluate(mismatch) is True
    await page.fill("#editor [name=prefix]", "EF")
    assert await page.evaluate(mismatch) is False
    await page.click("#cancel")
    await page.click("[data-tab=items]")
    await page.click("#list [data-action=add]")
    await page.fill("#editor [name=id]", "Bad Id")
    assert await page.evaluate("document.querySelector('#editor [name=id]').validity.patternMismatch") is True
