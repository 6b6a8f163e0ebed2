"""axe-core as the browser suite runs it: the rules' tags, the call, and its report."""

from __future__ import annotations

from typing import Any

AXE_TAGS = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
]

RUN_AXE = """async (tags) => {
  const results = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations', 'incomplete'],
  });
  const simplify = (rule) => ({
    id: rule.id, impact: rule.impact, help: rule.help, helpUrl: rule.helpUrl,
    nodes: rule.nodes.map((node) => ({
      target: node.target.join(' '), html: node.html, summary: node.failureSummary,
    })),
  });
  return {
    version: axe.version,
    violations: results.violations.map(simplify),
    incomplete: results.incomplete.map(simplify),
  };
}"""


def describe(rules: list[dict[str, Any]]) -> str:
    lines = []
    for rule in rules:
        lines.append(f"[{rule['impact']}] {rule['id']}: {rule['help']} ({rule['helpUrl']})")
        for node in rule["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:160]}")
            for line in (node["summary"] or "").splitlines():
                lines.append(f"      {line}")
    return "\n".join(lines)


def violations(page: Any, schemes: tuple[str, ...] = ("light", "dark")) -> list[str]:
    """axe on ``page`` (axe already injected) in each colour scheme: what it found."""
    found = []
    for scheme in schemes:
        page.emulate_media(color_scheme=scheme)
        result = page.evaluate(RUN_AXE, AXE_TAGS)
        if result["violations"]:
            found.append(f"axe ({scheme}) on {page.url}:\n" + describe(result["violations"]))
    return found
