"""Figure, table and code-block numbers from each page's outline, not from its doctree.

Sphinx numbers the figures of a book anew on every build in which a page was read: its
toctree collector unpickles every page's doctree and walks it (``assign_figure_numbers``):
13 doctrees and 7,800 nodes here, 0.1 s of each preview rebuild and twice that in a new
process, for a one-table edit that changes no number. The numbering needs only a page's
outline: its sections (for their section numbers), its toctrees and its numbered elements, in
document order. Each page's outline is taken when it is read (``doctree-read``) and kept in
the environment; the collector numbers from the outlines, in the same order and with the same
counters as Sphinx's own walk, and unpickles a doctree only for a page without one.

The collector installed (Sphinx's, or sphinx-external-toc's with numbering styles) keeps
everything else it does: the one with this numbering is a subclass of it, set up in its place
once the extensions are loaded (``builder-inited``).
"""

from __future__ import annotations

import functools

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector
from sphinx.util import url_re

# An outline is a list of entries, in document order:
#   ("section", anchor, outline)   a section ('#' + its first id) and what it holds
#   ("toctree", [docname, ...])     the pages a toctree lists, in order
#   ("number", figtype, id)         an element numbered as ``figtype`` ("figure", "table", ...)


def figure_type(env: BuildEnvironment, node: nodes.Element) -> str | None:
    """What ``node`` is numbered as, as Sphinx's numbering decides it (an uncaptioned figure,
    table or code block is not numbered)."""
    for domain in env.domains.values():
        figtype = domain.get_enumerable_node_type(node)
        if domain.name == "std" and not domain.get_numfig_title(node):
            continue
        if figtype:
            return figtype
    return None


def outline(env: BuildEnvironment, node: nodes.Element) -> list:
    """The outline of ``node``'s children (see the module's comment)."""
    entries: list = []
    for child in node.children:
        if isinstance(child, nodes.section):
            anchor = "#" + child["ids"][0] if child["ids"] else ""  # a section has ids (Sphinx assumes it)
            entries.append(("section", anchor, outline(env, child)))
        elif isinstance(child, addnodes.toctree):
            entries.append(("toctree", [docname for _title, docname in child["entries"]]))
        elif isinstance(child, nodes.Element):
            figtype = figure_type(env, child)
            if figtype and child["ids"]:
                entries.append(("number", figtype, child["ids"][0]))
            entries.extend(outline(env, child))  # what an element holds is numbered in its section
    return entries


class FromOutlines:
    """The numbering of Sphinx's ``TocTreeCollector.assign_figure_numbers`` (Sphinx 7.4), over
    the pages' outlines; mixed into the collector that is installed."""

    def assign_figure_numbers(self, env: BuildEnvironment) -> list[str]:
        """Assign a number to each numbered element under a numbered toctree; the pages whose
        numbers changed."""
        outlines = getattr(env, "wgec_outlines", {})
        old_fignumbers = env.toc_fignumbers
        env.toc_fignumbers = {}
        counters: dict[str, dict[tuple[int, ...], int]] = {}
        assigned: set[str] = set()

        def section_number(docname: str, anchor: str) -> tuple[int, ...]:
            secnumbers = env.toc_secnumbers.get(docname, {})
            return (secnumbers.get(anchor) if anchor in secnumbers else secnumbers.get("")) or ()

        def walk(docname: str, entries: list, secnum: tuple[int, ...]) -> None:
            for entry in entries:
                if entry[0] == "section":
                    walk(docname, entry[2], section_number(docname, entry[1]) or secnum)
                elif entry[0] == "toctree":
                    for subdocname in entry[1]:
                        # Links, 'self' and generated pages (genindex, search) have no doctree.
                        if url_re.match(subdocname) or subdocname == "self" or subdocname not in env.all_docs:
                            continue
                        walk_doc(subdocname, secnum)
                else:
                    _, figtype, figure_id = entry
                    counter = counters.setdefault(figtype, {})
                    key = secnum[: env.config.numfig_secnum_depth]
                    counter[key] = counter.get(key, 0) + 1
                    env.toc_fignumbers.setdefault(docname, {}).setdefault(figtype, {})[figure_id] = (*key, counter[key])

        def walk_doc(docname: str, secnum: tuple[int, ...]) -> None:
            if docname not in assigned:
                assigned.add(docname)
                entries = outlines.get(docname)
                if entries is None:  # read before outlines were kept
                    entries = outline(env, env.get_doctree(docname))
                walk(docname, entries, secnum)

        if not env.config.numfig:
            return []
        walk_doc(env.config.root_doc, ())
        return [docname for docname, numbers in env.toc_fignumbers.items() if numbers != old_fignumbers.get(docname)]


def on_doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    env = app.env
    if not hasattr(env, "wgec_outlines"):
        env.wgec_outlines = {}
    env.wgec_outlines[env.docname] = outline(env, doctree)


def on_env_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    getattr(env, "wgec_outlines", {}).pop(docname, None)


def on_env_merge_info(app: Sphinx, env: BuildEnvironment, docnames, other: BuildEnvironment) -> None:
    if not hasattr(env, "wgec_outlines"):
        env.wgec_outlines = {}
    theirs = getattr(other, "wgec_outlines", {})
    env.wgec_outlines.update({d: theirs[d] for d in docnames if d in theirs})


def toc_collectors(app: Sphinx) -> list[TocTreeCollector]:
    """The toctree collectors enabled in ``app``, found among its own event listeners (each has
    one listener per event; a disabled one has none, and its ``listener_ids`` is None)."""
    found = {
        id(owner): owner
        for listeners in app.events.listeners.values()
        for listener in listeners
        if isinstance(owner := getattr(listener.handler, "__self__", None), TocTreeCollector)
        and owner.listener_ids is not None
    }
    return list(found.values())


def on_builder_inited(app: Sphinx) -> None:
    """The toctree collector in use replaced by the same collector numbering from outlines."""
    for collector in toc_collectors(app):
        if not isinstance(collector, FromOutlines):
            collector.disable(app)
            numbering(type(collector))().enable(app)


@functools.cache
def numbering(collector: type) -> type:
    """``collector``'s class, numbering from outlines (one class a process, however many builds)."""
    return type(f"{collector.__name__}FromOutlines", (FromOutlines, collector), {})


def setup(app: Sphinx) -> dict:
    # After the other doctree-read listeners (Sphinx's collectors run at 500): the outline is
    # of the doctree as it is pickled.
    app.connect("doctree-read", on_doctree_read, priority=900)
    app.connect("env-purge-doc", on_env_purge_doc)
    app.connect("env-merge-info", on_env_merge_info)
    app.connect("builder-inited", on_builder_inited, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
