"""A menu screen laid out within a medium's limits: texts cut at a word, lists paged.

The menu decides what a screen says; this decides what fits: at most `max_chars` (as the
medium counts them) and `max_options` numbered lines per page, then one line of
navigation. Pages are cut with room kept for a hint, so a hint never moves an option to
another page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Room kept above every list for a hint, so pages do not shift when one is shown.
HINT_ROOM = 40


@dataclass(frozen=True, slots=True)
class Nav:
    """The navigation words of one language: more (98), back (0), home (00)."""

    more: str
    back: str
    home: str

    def line(self, *, more: bool, back: bool, home: bool) -> str:
        shown = [self.more] if more else []
        shown += [self.back] if back else []
        shown += [self.home] if home else []
        return " ".join(shown)


@dataclass(frozen=True, slots=True)
class Layout:
    """What one screen of a medium holds; the adapter gives it and the menu pages to it."""

    max_chars: int = 160
    max_options: int = 5
    #: A label is cut to this width.
    label_width: int = 28
    measure: Callable[[str], int] = len
    #: Turns any text (names, the employer's data) into what the medium shows.
    clean: Callable[[str], str] = str

    def fit(self, text: str, room: int | None = None) -> str:
        """`text` made showable and cut at a word to `room` (a whole screen by default)."""
        text, measure = self.clean(text), self.measure
        limit = self.max_chars if room is None else room
        if measure(text) <= limit:
            return text
        if limit <= 3:
            return "." * max(limit, 0)
        low, high = 0, len(text)
        while low < high:  # the longest start of the text that fits with "..." after it
            middle = (low + high + 1) // 2
            if measure(text[:middle]) <= limit - 3:
                low = middle
            else:
                high = middle - 1
        cut = text[:low]
        space = cut.rfind(" ")
        if space >= (limit - 3) // 2:
            cut = cut[:space]
        return cut.rstrip(" ,;:-.\n") + "..."

    def numbered(self, items: list[str]) -> list[str]:
        """`1. First`, `2. Second`...: numbered on from 1 across pages, each label cut."""
        return [f"{n}. {self.fit(label, self.label_width)}" for n, label in enumerate(items, 1)]

    def pages(self, title: str, lines: list[str], nav: Nav) -> list[range]:
        """Which lines go on which page, with room for the title (or a hint) and the nav."""
        widest_nav = nav.line(more=True, back=True, home=True)
        budget = (
            self.max_chars
            - max(self.measure(self.clean(title)), HINT_ROOM)
            - self.measure(widest_nav)
            - 2
        )
        pages, start, used = [], 0, 0
        for i, line in enumerate(lines):
            cost = self.measure(line) + 1
            if i > start and (i - start >= self.max_options or used + cost > budget):
                pages.append(range(start, i))
                start, used = i, 0
            used += cost
        pages.append(range(start, len(lines)))
        return pages

    def screen(
        self,
        title: str,
        items: list[str],
        *,
        page: int,
        hint: str | None,
        nav: Nav,
        back: bool,
        home: bool,
    ) -> tuple[str, int]:
        """Page `page` (kept within the pages there are) of a list screen, and that page."""
        measure = self.measure
        lines = self.numbered(items)
        pages = self.pages(title, lines, nav)
        page = min(max(page, 0), len(pages) - 1)
        shown = [lines[i] for i in pages[page]]
        bottom = nav.line(more=page + 1 < len(pages), back=back or page > 0, home=home)
        below = "\n".join([*shown, bottom] if bottom else shown)
        room = self.max_chars - (measure(below) + 1 if below else 0)
        title = self.clean(title)
        if hint:
            hint = self.clean(hint)
            both = f"{hint}\n{title}"
            if measure(both) <= room:
                top = both
            elif room - measure(title) - 1 >= HINT_ROOM:
                # Cut the hint rather than the screen it belongs to.
                top = f"{self.fit(hint, room - measure(title) - 1)}\n{title}"
            else:
                top = self.fit(hint, room)
        else:
            top = self.fit(title, room)
        return (f"{top}\n{below}" if below else top), page
