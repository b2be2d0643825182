"""Accessibility checks run in the page: axe-core's rules (its script as the
axe-playwright-python wheel ships it, so no Node.js is needed), and a few of our own:
every control has an accessible name, ids are unique, heading levels do not skip, and Tab
reaches the main controls in a sensible order."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import Page

_PROBLEMS_JS = """
() => {
  const problems = [];
  const visible = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
  const nameOf = (el) => {
    if (el.getAttribute("aria-label")) return el.getAttribute("aria-label");
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      return by.split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? "").join(" ");
    }
    if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(" ");
    if (el.tagName === "BUTTON" || el.tagName === "A") return el.textContent;
    return el.getAttribute("title") ?? "";
  };
  for (const el of document.querySelectorAll("button, a[href], input, select, textarea")) {
    if (el.type === "hidden" || !visible(el)) continue;
    if (!nameOf(el).trim()) problems.push(`no accessible name: ${el.outerHTML.slice(0, 80)}`);
  }
  const ids = new Map();
  for (const el of document.querySelectorAll("[id]")) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
  for (const [id, n] of ids) if (n > 1) problems.push(`duplicate id: ${id}`);
  for (const el of document.querySelectorAll("img")) {
    if (!el.hasAttribute("alt")) problems.push("img without alt");
  }
  let last = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!visible(h)) continue;
    const level = Number(h.tagName[1]);
    if (last && level > last + 1) problems.push(`heading level skips: ${h.tagName} after h${last}`);
    last = level;
  }
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  return problems;
}
"""


def accessibility_problems(page: Page) -> list[str]:
    problems: list[str] = page.evaluate(_PROBLEMS_JS)
    return problems


def tab_order(page: Page, presses: int) -> list[str]:
    """The ids (or labels) focus visits, pressing Tab from the page's first link."""
    page.evaluate("() => document.querySelector('a, button').focus()")
    seen: list[str] = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused: Any = page.evaluate(
            "() => { const e = document.activeElement;"
            " return e ? (e.id || e.getAttribute('aria-label') || e.textContent.trim()) : ''; }"
        )
        seen.append(str(focused))
    return seen


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of the given impacts, one line per rule with its first nodes."""
    page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v["impact"] in impacts
    ]
