"""The report's charts: functions that take the tables and return a matplotlib Figure.

One shared style (:func:`style`): the Okabe-Ito colour-blind-safe palette, with colours
chosen to differ in lightness and backed by hatching and marker shape, so that every
chart still reads when printed in greyscale; text sized for an A4 page.
"""

from __future__ import annotations

import textwrap
import warnings
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")
import itertools

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

# Okabe & Ito (2008): distinct for the common colour-vision deficiencies.
BLUE, ORANGE, GREEN, VERMILION, SKY, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#555555"
LEVEL_STYLES = [  # colour, hatch: lightness and pattern differ too
    (BLUE, ""),
    (ORANGE, "//"),
    (GREEN, ".."),
    (SKY, "xx"),
    (VERMILION, "\\\\"),
]
WIDTH = 6.3  # inches: the text width of an A4 page with UN margins
# A label may hold a character no installed font has (an emoji, say): the chart draws a box for
# it and the build goes on; the report's text and the figure's alt text carry the exact string.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
FONTS = ["DejaVu Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans Arabic", "Noto Sans"]


def _fonts() -> list[str]:
    """The fallback chain of fonts that are installed (names in any UN language render)."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return [name for name in FONTS if name in installed] or ["DejaVu Sans"]


@contextmanager
def style():
    rc = {
        "font.family": _fonts(),
        "font.size": 10,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "xtick.labelsize": 9.5,
        "ytick.labelsize": 9.5,
        "legend.fontsize": 9.5,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": GREY,
        "hatch.linewidth": 0.8,
        "svg.fonttype": "path",
        "figure.dpi": 100,
        # Labels are data: a "$" is a dollar sign, never the start of mathtext.
        "text.parse_math": False,
    }
    with plt.rc_context(rc):
        yield


def _wrap(text: str, width: int, lines: int = 3) -> str:
    """A label in lines of ``width`` characters, at most ``lines`` of them: a longer text ends
    in "…" (a chart has no room for a paragraph; the report's text and alt text hold it all)."""
    return "\n".join(textwrap.wrap(str(text), width, max_lines=lines, placeholder=" …")) or str(text)


def _levels(tables) -> pd.DataFrame:
    return tables.levels.sort_values("position")


def focus_areas_by_level(tables):
    """Figure 1: how many focus areas the contribution lists at each level."""
    levels = _levels(tables)
    areas = tables.focus_areas
    counted = areas[areas.kind == "focus area"]
    open_lists = set(areas[areas.kind == "list continues"].level)
    counts = [int((counted.level == lid).sum()) for lid in levels.id]
    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, 0.65 * len(levels) + 1.1))
        y = list(range(len(levels)))[::-1]
        for i, (yy, n) in enumerate(zip(y, counts)):
            colour, hatch = LEVEL_STYLES[i % len(LEVEL_STYLES)]
            ax.barh(yy, n, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6, height=0.6)
            note = f"{n}" + ("  (list left open)" if levels.id.iloc[i] in open_lists else "")
            ax.text(n + max([*counts, 1]) * 0.02, yy, note, va="center", fontsize=10)
        ax.set_yticks(y, [_wrap(name, 22) for name in levels.name])
        ax.set_xlabel("Number of focus areas")
        ax.set_xlim(0, max([*counts, 1]) * 1.45)
        ax.xaxis.get_major_locator().set_params(integer=True)
        fig.tight_layout()
    return fig


def _organizations(tables) -> tuple[list[str], list[str]]:
    """The organizations of the contribution's table: those of its first column (UN agencies),
    then those of the others (forums), each in the order a reader meets them."""
    from .narrative import columns, organizations_in

    cols = columns(tables)
    first = organizations_in(tables, cols[0]) if cols else []
    rest = [o for c in cols[1:] for o in organizations_in(tables, c) if o not in first]
    return first, list(dict.fromkeys(rest))


def organization_matrix(tables):
    """Figure 2: which organization the contribution names at which level, in which column of its
    table; a name that stands on an uncertain reading carries the mark, at the level it is uncertain."""
    from .narrative import MARK, columns, label, role_readings

    levels = _levels(tables)
    first, rest = _organizations(tables)
    orgs = first + rest
    roles = tables.organization_roles
    cols = columns(tables)
    hedged = role_readings(tables)
    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, 0.3 * len(orgs) + 1.6))
        rows = {acr: i for i, acr in enumerate(orgs)}
        where = {lid: j for j, lid in enumerate(levels.id)}
        for role in roles.itertuples():
            second = cols.index(role.column) > 0
            ax.scatter(
                where[role.level],
                rows[role.organization],
                s=110,
                marker="o" if second else "s",
                linewidths=1.6,
                facecolors="white" if second else BLUE,
                edgecolors=VERMILION if second else BLUE,
                zorder=3,
            )
            if (role.level, role.organization) in hedged:
                ax.text(where[role.level] + 0.12, rows[role.organization], MARK, va="center", fontsize=9)
        if 0 < len(first) < len(orgs):
            ax.axhline(len(first) - 0.5, color=GREY, linewidth=0.8, linestyle=":")
        ax.set_xticks(list(where.values()), [_wrap(n, 16) for n in levels.name])
        ax.set_yticks(list(rows.values()), [_wrap(label(tables, acr), 30, 1) for acr in rows])
        ax.set_xlim(-0.5, len(where) - 0.5)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.xaxis.tick_top()
        ax.grid(True, color="#dddddd", linewidth=0.6, zorder=0)
        ax.tick_params(length=0)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        if cols:
            ax.scatter([], [], marker="s", s=80, color=BLUE, label=_wrap(f"column “{cols[0]}”", 40, 1))
        if len(cols) > 1:
            ax.scatter(
                [],
                [],
                marker="o",
                s=80,
                facecolors="white",
                edgecolors=VERMILION,
                linewidths=1.6,
                label=_wrap(f"column “{cols[1]}”", 40, 1),
            )
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=2, frameon=False)
        fig.tight_layout()
    return fig


def _column(ax, x, labels, colour, fill, width=0.26, wrap=22, line=0.028):
    """Boxes stacked evenly in a column of a diagram; returns each label's y position.

    ``line`` is the height of one line of text in axes units; boxes grow with their text.
    """
    n = len(labels)
    ys = {}
    for i, text in enumerate(labels):
        y = 1 - (i + 0.5) / max(n, 1)
        ys[text] = y
        wrapped = _wrap(text, wrap)
        height = line * (wrapped.count("\n") + 1) + line
        ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0.004",
                facecolor=fill,
                edgecolor=colour,
                linewidth=1.2,
                zorder=2,
            )
        )
        ax.text(x, y, wrapped, ha="center", va="center", fontsize=9, zorder=3)
    return ys


def organization_network(tables):
    """Figure 3: the organizations of the first column of the contribution's table (left) and of
    the other (right) linked to the levels they are named at (middle)."""
    from .narrative import columns, label

    levels = _levels(tables)
    first, rest = _organizations(tables)
    roles = tables.organization_roles
    cols = columns(tables)
    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, max(len(first), len(rest), len(levels)) * 0.32 + 1.2))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.06)
        ax.axis("off")
        left = _column(ax, 0.14, [label(tables, o) for o in first], BLUE, "#e6f1f8")
        mid = _column(ax, 0.5, list(levels.name), "black", "#f2f2f2", width=0.3)
        right = _column(ax, 0.86, [label(tables, o) for o in rest], VERMILION, "white")
        names = dict(zip(levels.id, levels.name))
        for role in roles.itertuples():
            y_level = mid[names[role.level]]
            shown = label(tables, role.organization)
            if role.organization in first:
                ax.plot([0.27, 0.35], [left[shown], y_level], color=BLUE, linewidth=1, zorder=1)
            elif shown in right:
                ax.plot(
                    [0.65, 0.73],
                    [y_level, right[shown]],
                    color=VERMILION,
                    linewidth=1.2,
                    linestyle=(0, (4, 2)),
                    zorder=1,
                )
        heads = [(0.14, cols[0] if cols else ""), (0.5, "Level"), (0.86, cols[1] if len(cols) > 1 else "")]
        for x, head in heads:
            ax.text(x, 1.04, _wrap(head, 22, 1), ha="center", va="center", fontsize=10, fontweight="bold")
        fig.tight_layout()
    return fig


def format_path(tables):
    """Figure 4: the forms the body/mechanism could take and the evolutionary path, each group
    headed by the contribution's own words ("could be", "beginning with", "later evolves into")."""
    forms = tables.format_options.sort_values("position")
    groups = list(dict.fromkeys(forms.wording))
    hosts = list(tables.hosting_options.sort_values("position").host)
    most = max([int((forms.wording == g).sum()) for g in groups] + [1])
    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, most * 0.9 + 1.3))
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.22 if hosts else 0, 1.1)
        ax.axis("off")
        line = 0.5 / (most * 4)
        n = max(len(groups), 1)
        xs = [(i + 0.5) / n for i in range(n)]
        width = 0.9 / n - 0.04
        placed = []
        for i, (x, group) in enumerate(zip(xs, groups)):
            colour, fill = [(GREY, "#f2f2f2"), (ORANGE, "#fdf1d9"), (BLUE, "#e6f1f8")][min(i, 2)]
            ys = _column(
                ax,
                x,
                list(forms[forms.wording == group].form),
                colour,
                fill,
                width=width,
                wrap=max(int(width * 60), 12),
                line=line,
            )
            ax.text(x, 1.06, _wrap(f"“{group}”", 28, 1), ha="center", fontsize=10, fontweight="bold")
            placed.append((x, ys))
        for (x0, ys0), (x1, ys1) in itertools.pairwise(placed):  # the path: each form into the next group's
            for y0 in ys0.values():
                for y1 in ys1.values():
                    ax.add_patch(
                        FancyArrowPatch(
                            (x0 + width / 2, y0),
                            (x1 - width / 2, y1),
                            arrowstyle="-|>",
                            mutation_scale=14,
                            color=GREY,
                            linewidth=1.2,
                        )
                    )
        if hosts:
            ax.text(
                0.5,
                -0.12,
                _wrap("Its hosting in an appropriate UN organization “like” " + ", ".join(hosts), 80, 3),
                ha="center",
                va="center",
                fontsize=9.5,
            )
        fig.tight_layout()
    return fig


def meetings_timeline(tables, highlight: int | None = None):
    """Figure 5: the WGEC's meetings on a time line; a meeting whose date is unknown is set apart."""
    meetings = tables.wgec_meetings.sort_values("number")
    dated = meetings[meetings.start_date.notna()]
    undated = meetings[meetings.start_date.isna()]
    with style():
        fig, ax = plt.subplots(figsize=(WIDTH, 2.4 if len(undated) else 2.0))
        ax.axhline(0, color=GREY, linewidth=1)
        for i, m in enumerate(dated.itertuples()):
            mine = highlight is not None and m.number == highlight
            ax.plot([m.start_date, m.end_date], [0, 0], color=BLUE, linewidth=5, solid_capstyle="butt")
            ax.scatter(
                [m.start_date],
                [0],
                s=120 if mine else 70,
                marker="D" if mine else "o",
                color=VERMILION if mine else BLUE,
                zorder=3,
                edgecolors="black",
                linewidths=0.6,
            )
            up = 0.35 if i % 2 == 0 else -0.35
            days = f"{m.start_date.day}" + (
                f"–{m.end_date.day}"
                if m.end_date.day != m.start_date.day and m.end_date.month == m.start_date.month
                else ""
            )
            label = f"Meeting {m.number}\n{days} {m.start_date:%b %Y}"
            ax.text(
                m.start_date,
                up,
                label,
                ha="center",
                va="bottom" if up > 0 else "top",
                fontsize=9,
                fontweight="bold" if mine else "normal",
            )
        ax.set_ylim(-1.0, 1.0)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        if len(dated):
            pad = pd.Timedelta(days=60)
            ax.set_xlim(dated.start_date.min() - pad, dated.end_date.max() + pad)
        import matplotlib.dates as mdates

        ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        if len(undated):
            names = ", ".join(str(n) for n in undated.number)
            word = "Meeting" if len(undated) == 1 else "Meetings"
            fig.text(
                0.5,
                0.02,
                f"{word} {names}: date not found in the sources, not shown on the time line",
                ha="center",
                fontsize=9,
                style="italic",
            )
        fig.tight_layout(rect=(0, 0.1 if len(undated) else 0, 1, 1))
    return fig


def sample():
    """A small throwaway figure drawn with what the report's charts use (the shared style and its
    fonts, regular, bold and italic text, hatched bars, marker shapes, boxes and arrows, a date
    axis, a legend, tight layout): rendered once in a kernel that is kept warm (``wgec
    preview``), it makes matplotlib load its fonts and code before the first chart is wanted,
    so an edit's first re-run chart no longer pays for that (a quarter to half a second)."""
    import matplotlib.dates as mdates

    with style():
        fig, (bars, line) = plt.subplots(1, 2, figsize=(2.0, 1.0))
        for i, (colour, hatch) in enumerate(LEVEL_STYLES[:2]):
            bars.barh(i, i + 1, color=colour, hatch=hatch, edgecolor="black", linewidth=0.6, label=str(i))
        bars.scatter([1, 2], [0, 1], marker="s", s=20, facecolors="white", edgecolors=VERMILION, linewidths=1.6)
        bars.text(0.5, 0.5, "Aa", fontweight="bold")
        bars.set_yticks([0, 1], ["a", "b"])
        bars.set_xlabel("n")
        bars.xaxis.get_major_locator().set_params(integer=True)
        bars.legend(loc="upper center", ncol=2, frameon=False)
        bars.add_patch(FancyBboxPatch((0, 0), 0.5, 0.5, boxstyle="round,pad=0.004", facecolor="#f2f2f2"))
        bars.add_patch(FancyArrowPatch((0, 0), (1, 1), arrowstyle="-|>", mutation_scale=8))
        days = [pd.Timestamp("2016-09-01"), pd.Timestamp("2017-01-26")]
        line.plot(days, [0, 0], color=BLUE, linewidth=5, solid_capstyle="butt")
        line.scatter(days[:1], [0], marker="D", color=VERMILION, edgecolors="black", zorder=3)
        line.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
        line.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
        line.axhline(0, color=GREY, linewidth=1, linestyle=":")
        fig.text(0.5, 0.02, "Aa", ha="center", style="italic")
        fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
