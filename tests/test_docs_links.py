"""The README and docs/ pages: every relative link resolves, the README stays short.

Standard library and pytest only: the package is not imported.
"""

import glob
import os
import re

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), ".."))
README = os.path.join(ROOT, "README.md")
MAX_README_LINES = 260

# A fenced code block: ``` or ~~~ (three or more), up to the same fence.
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
# A code span: a run of backticks, up to the same run, within a paragraph.
CODE_SPAN = re.compile(r"(`+)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
# [text](target) and ![alt](target); the text may hold one level of brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
# [label]: target (a reference-style link's definition).
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>\n]*>|\S+)", re.M)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # http:, https:, mailto:, ...


def markdown_files():
    docs = glob.glob(os.path.join(ROOT, "docs", "**", "*.md"), recursive=True)
    return [README] + sorted(docs)


def without_code(text):
    """The text with fenced blocks dropped and code spans blanked, so that
    neither is read as a link (a code span inside a link's text stays text)."""
    text = FENCE.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    return CODE_SPAN.sub(lambda match: "code" + "\n" * match.group(0).count("\n"), text)


def link_targets(text):
    """Every link target of a Markdown text: inline links, images, definitions."""
    text = without_code(text)
    for pattern in (INLINE_LINK, DEFINITION):
        for match in pattern.finditer(text):
            target = match.group(1)
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            yield target


def local_path(target):
    """The file part of a relative link, or None for external and anchor links."""
    if not target or target.startswith("#") or EXTERNAL.match(target):
        return None
    return target.split("#", 1)[0].split("?", 1)[0]


def test_the_parser_reads_links_and_skips_code():
    text = "\n".join([
        "See [the docs](docs/a.md#part) and ![a plot](images/p.png \"title\").",
        "[`code` in the text](b.md), [a [nested] text](c.md), [x](<d e.md>)",
        "`[not a link](../shared/x.md)` and ``two `ticks` [no](y.md)``",
        "[external](https://example.org) [mail](mailto:a@b.c) [anchor](#here)",
        "[label]: defined.md",
        "```",
        "[in a fence](z.md)",
        "```",
        "~~~python",
        "x = '[tilde fence](w.md)'",
        "~~~",
    ])
    targets = list(link_targets(text))
    assert [local_path(t) for t in targets if local_path(t)] == [
        "docs/a.md", "images/p.png", "b.md", "c.md", "d e.md", "defined.md",
    ]
    assert {"https://example.org", "mailto:a@b.c", "#here"} <= set(targets)


@pytest.mark.parametrize(
    "path", markdown_files(), ids=lambda path: os.path.relpath(path, ROOT)
)
def test_relative_links_resolve(path):
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    folder = os.path.dirname(path)
    missing = []
    for target in link_targets(text):
        relative = local_path(target)
        if relative is None:
            continue
        if not os.path.exists(os.path.normpath(os.path.join(folder, relative))):
            missing.append(target)
    assert not missing, f"{os.path.relpath(path, ROOT)}: links to nothing: {missing}"


def test_readme_is_short():
    with open(README, encoding="utf-8") as handle:
        count = len(handle.read().splitlines())
    assert count <= MAX_README_LINES, (
        f"README.md has {count} lines (at most {MAX_README_LINES}): move detail to docs/"
    )
