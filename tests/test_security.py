"""Security basics: safe YAML, data paths confined to the data directory, no raw or included
content on any page. (The same through the command line, on a real build: test_broken_inputs.)"""

import io
import json
import os

import nbformat
import pytest

from wgec import data, settings

# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!!python/name:os.system"])
def test_a_python_tag_in_the_configuration_is_refused_not_run(tmp_path, tag):
    marker = tmp_path / "executed"
    path = tmp_path / "_config.yml"
    path.write_text(f'title: "x"\nauthor: {tag} ["touch {marker}"]\n', encoding="utf-8")
    with pytest.raises(settings.ConfigError) as info:
        settings.book_config(path)
    message = str(info.value)
    assert message.startswith("_config.yml, line 2, column 9: not valid YAML")
    assert "python/" in message and "safe loader" in message
    assert not marker.exists()


# --- data paths -------------------------------------------------------------------------------


def _descriptor(data_dir, change):
    path = data_dir / data.DESCRIPTOR
    descriptor = json.loads(path.read_text(encoding="utf-8"))
    change(descriptor)
    path.write_text(json.dumps(descriptor, indent=1), encoding="utf-8")


def _problems(data_dir):
    with pytest.raises(data.DataError) as info:
        data.load(data_dir)
    return info.value.problems


@pytest.mark.parametrize("where", ["../levels.csv", "sub/../../levels.csv", "/etc/passwd"])
def test_a_resource_path_out_of_the_data_directory_is_refused(data_copy, where):
    (data_copy.parent / "levels.csv").write_text((data_copy / "levels.csv").read_text())
    _descriptor(data_copy, lambda d: next(r for r in d["resources"] if r["name"] == "levels").update(path=where))
    [problem] = _problems(data_copy)
    assert problem.file == data.DESCRIPTOR and problem.value == where
    assert "inside the data directory" in problem.expected and "'levels'" in problem.expected


def test_a_source_path_out_of_the_data_directory_is_refused(data_copy):
    _descriptor(data_copy, lambda d: d["sources"][0].update(path="../../contribution.txt"))
    [problem] = _problems(data_copy)
    assert problem.file == data.DESCRIPTOR and problem.value == "../../contribution.txt"


def test_a_source_linked_out_of_the_data_directory_is_refused(data_copy, tmp_path):
    source = json.loads((data_copy / data.DESCRIPTOR).read_text())["sources"][0]["path"]
    outside = tmp_path / "elsewhere.txt"
    (data_copy / source).rename(outside)
    os.symlink(outside, data_copy / source)
    [problem] = _problems(data_copy)
    assert problem.file == source and "outside" in problem.expected


def test_a_descriptor_linked_out_of_the_data_directory_is_refused(data_copy, tmp_path):
    outside = tmp_path / "elsewhere.json"
    (data_copy / data.DESCRIPTOR).rename(outside)
    os.symlink(outside, data_copy / data.DESCRIPTOR)
    [problem] = _problems(data_copy)
    assert problem.file == data.DESCRIPTOR and "outside" in problem.expected


def test_a_table_over_the_size_limit_is_refused_before_it_is_read(data_copy):
    path = data_copy / "levels.csv"
    with open(path, "ab") as f:
        f.truncate(data.MAX_FILE_BYTES + 1)  # a sparse file: no need to write 10 MB
    [problem] = _problems(data_copy)
    assert problem.file == "levels.csv" and "at most 10 MB" in problem.expected


# --- no raw content, no file inclusion, on any page ------------------------------------------


def test_generated_markdown_cannot_use_raw_or_include(tmp_path):
    """A notebook output (as wgec.page.show makes them) holding a {raw} and an {include}
    directive: with wgec.book.sphinx_ext loaded, neither reaches the page."""
    from sphinx.application import Sphinx

    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FILE-CONTENT\n")
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        'extensions = ["myst_nb", "wgec.book.sphinx_ext"]\nnb_execution_mode = "off"\n'
        'nb_render_markdown_format = "myst"\n'
    )
    (src / "_toc.yml").write_text("root: index\n")
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )
    nb.cells.append(nbformat.v4.new_markdown_cell("# Page"))
    cell = nbformat.v4.new_code_cell("page.show(...)")
    cell.outputs.append(
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/markdown": (
                    '```{raw} html\n<b id="wgec-raw">RAW</b>\n```\n\n```{include} ../secret.txt\n```\n\nafter'
                )
            },
        )
    )
    nb.cells.append(cell)
    nbformat.write(nb, src / "index.ipynb")
    warnings = io.StringIO()
    app = Sphinx(src, src, src / "_out", src / "_doctrees", "html", status=None, warning=warnings, freshenv=True)
    app.build()
    html = (src / "_out" / "index.html").read_text(encoding="utf-8")
    assert "after" in html  # the output was rendered
    assert 'id="wgec-raw"' not in html and "SECRET-FILE-CONTENT" not in html
    assert '"raw" directive disabled' in warnings.getvalue()
    assert 'Directive "include" disabled' in warnings.getvalue()
