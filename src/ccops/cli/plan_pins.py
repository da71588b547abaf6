"""What a plan states of what its saved copy pins (Verb.pins), and of the image a deploy writes.

Shown above the plan's last line, so that a plan still ends with its summary. The labels come
from file and image names: each is shown as text in the terminal and escaped in markdown.
"""

from __future__ import annotations

from typing import Any

from ccops.text.safe_text import markdown_cell, visible

HEADING = "pinned (a saved plan refuses to run if one differs)"
MODES = {
    "image": "written on planned machines",
    "converge": "converged again on active machines, not written",
    "rebuild": "written again on active machines, their declared paths backed up first",
}


def pins(prepared: Any) -> dict[str, str]:
    from ccops.run.saved_plan import pins_of

    return pins_of(prepared.verb, prepared.request)


def deploy_image(options: dict[str, Any]) -> dict[str, str] | None:
    """The image a deploy writes, its version and the mode; None for any other run."""
    from ccops.image.deploy_plan import IMAGE, MODE, VERSION

    if IMAGE not in options:
        return None
    return {"name": str(options[IMAGE]), "version": str(options.get(VERSION)), "mode": str(options.get(MODE))}


def plan_json(document: dict[str, Any], pinned: dict[str, str], image: dict[str, str] | None) -> dict[str, Any]:
    """Pins as a list of {pin, sha256}: text that varies is a value, never a key."""
    out = {**document, **({"image": image} if image else {})}
    return {**out, "pins": [{"pin": k, "sha256": v} for k, v in pinned.items()]} if pinned else out


def plan_text(document: str, pinned: dict[str, str], image: dict[str, str] | None) -> str:
    block = [_image_line(image)] if image else []
    if pinned:
        block += [f"{HEADING}:", *(f"  {label}: sha256 {digest}" for label, digest in pinned.items())]
    return _before_last_line(document, [visible(line) for line in block])


def plan_markdown(document: str, pinned: dict[str, str], image: dict[str, str] | None) -> str:
    block = [f"**{markdown_cell(_image_line(image))}**", ""] if image else []
    if pinned:
        block += [f"{HEADING[0].upper()}{HEADING[1:]}:", "", "| what | sha256 |", "|---|---|"]
        block += [f"| {markdown_cell(label)} | `{markdown_cell(digest)}` |" for label, digest in pinned.items()]
    return _before_last_line(document, block)


def _image_line(image: dict[str, str]) -> str:
    return f"image {image['name']} {image['version']}: {MODES.get(image['mode'], image['mode'])}"


def _before_last_line(document: str, block: list[str]) -> str:
    if not block:
        return document
    head, _, last = document.rstrip("\n").rpartition("\n")
    return "\n".join([head, *block, "", last]) + document[len(document.rstrip("\n")) :]
