"""Project resource factories from `extend-resource-factories` are tracked like built-in ones."""
from gclint.config import Settings
from gclint.engine import lint_source
from gclint.analysis.resources import factory_table

SOURCE = (
    "from mypkg.db import connect\n"
    "\n"
    "def count():\n"
    "    con = connect()\n"
    "    return con.execute('select 1')\n"
)


def test_extra_factories_join_the_table():
    table = factory_table(["mypkg.db.connect"])
    assert table["mypkg.db.connect"] == "resource"
    assert table["open"] == "file"


def test_an_extra_factory_is_flagged_only_when_configured():
    assert [f.code for f in lint_source(SOURCE, "x.py") if f.code.startswith("GCL3")] == []
    settings = Settings(extend_resource_factories=("mypkg.db.connect",))
    found = [(f.line, f.col, f.code) for f in lint_source(SOURCE, "x.py", settings) if f.code.startswith("GCL3")]
    assert found == [(4, 11, "GCL301")]


def test_a_file_naming_only_a_project_factory_is_still_analysed():
    # "Session" is in no built-in trigger: the configured factory must make
    # the rules look at the file at all.
    source = "import requests\n\ndef fetch(url):\n    s = requests.Session()\n    return s.get(url).status_code\n"
    settings = Settings(extend_resource_factories=("requests.Session",))
    assert [(f.line, f.code) for f in lint_source(source, "x.py", settings) if f.code.startswith("GCL3")] == [(4, "GCL301")]
