"""The package's shape: stages that import downward only (import-linter, in `make test`), no
import cycle between its modules, no private name used outside its module, one error base."""

import ast
import inspect
from pathlib import Path

import grimp

import wgec
from wgec import errors, paths

PACKAGE = Path(wgec.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
OTHERS = sorted(
    [*(paths.ROOT / "tests").glob("*.py"), *(paths.ROOT / "bench").glob("*.py"), *(paths.ROOT / "tools").glob("*.py")]
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycle_between_the_modules():
    graph = grimp.build_graph("wgec", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back:
                cycles.append(" -> ".join([module, *back]))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _private_uses(path: Path, own: str | None) -> list[str]:
    """`from wgec.x import _name` and `x._name` where x is a wgec module imported here."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: dict[str, str] = {}  # local name -> wgec module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative to the module's package
                package = own.split(".")[: -node.level] if own else []
                if path.name == "__init__.py" and own:
                    package = own.split(".")[: len(own.split(".")) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            if not base.startswith("wgec"):
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} imports {base}.{alias.name}")
                modules[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("wgec"):
                    modules[alias.asname or alias.name.split(".")[0]] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            value = node.value
            if isinstance(value, ast.Name) and value.id in modules and modules[value.id] != own:
                found.append(f"{path.name}:{node.lineno} uses {modules[value.id]}.{node.attr}")
    return found


def test_no_private_name_is_used_outside_its_module():
    found = [use for path in SOURCES for use in _private_uses(path, module_name(path))]
    found += [use for path in OTHERS for use in _private_uses(path, None)]
    assert not found, "\n".join(found)


def test_every_user_facing_error_has_the_one_base_class():
    """Every exception class the package defines is a WgecError (the CLI catches that one)."""
    import importlib

    strays = []
    for path in SOURCES:
        module = importlib.import_module(module_name(path))
        for name, value in vars(module).items():
            ours = inspect.isclass(value) and value.__module__ == module.__name__
            if ours and issubclass(value, BaseException) and not issubclass(value, errors.WgecError):
                strays.append(f"{module.__name__}.{name}")
    assert not strays, f"exception classes outside the WgecError family: {strays}"
