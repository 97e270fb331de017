# scripts/layerlib.py — reads scripts/layers.conf for scripts/restructure and
# scripts/check-layers, so the two never disagree about the areas.
import os
import re

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Layers:
    """areas: bottom-up list; lower[a]: areas a may include; file_area:
    src file name -> area; test_area: test name -> area; outside[d]: areas
    directory d (outside src/) may include."""

    def __init__(self, path=None):
        self.areas, self.lower, self.file_area = [], {}, {}
        self.test_area, self.outside, self.long_ok = {}, {}, {}
        path = path or os.path.join(TOP, "scripts", "layers.conf")
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if line:
                    self._entry(line, path, n)

    def _entry(self, line, path, n):
        m = re.match(r"(area|files|tests|outside|long)\s+([\w./-]+):\s*(.*)$", line)
        if not m:
            raise SystemExit(f"{path}:{n}: cannot read: {line}")
        kind, name, rest = m.group(1), m.group(2), m.group(3).split()
        if kind == "area":
            self.areas.append(name)
            self.lower[name] = set(rest)
        elif kind == "files":
            for f in rest:
                names = [f] if "." in f else [f + ".c", f + ".h"]
                for x in names:
                    self.file_area[x] = name
        elif kind == "tests":
            for t in rest:
                self.test_area[t] = name
        elif kind == "outside":
            allowed = set()
            for a in rest:
                allowed |= set(self.areas) if a == "core" else {a}
            self.outside[name] = allowed
        else:
            self.long_ok[name] = " ".join(rest)

    def area_of(self, name):
        """The area of a src file name (tz_x.c / tz_x.h), or None."""
        if name in self.file_area:
            return self.file_area[name]
        stem = name.rsplit(".", 1)[0]
        return self.file_area.get(stem + ".c")

    def test_area_of(self, test):
        """The area of tests/unit/TEST.c: the tests table, else tz_X's area."""
        if test in self.test_area:
            return self.test_area[test]
        return self.area_of("tz_" + test[len("test_"):] + ".c")

    def link_order(self):
        """Areas top-down: a static library before the ones it needs."""
        return list(reversed(self.areas))
