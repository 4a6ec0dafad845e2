"""Node definitions read statically from the pack's Python files."""

from __future__ import annotations

import json

from functions.scanner import ScanLimits
from functions.scanner.report import ExtractedNode, Extraction
from tests.scanner.support import Files, scan_files

NODE = """
class {name}{bases}:
    @classmethod
    def INPUT_TYPES(cls):
        return {{"required": {{"image": ("IMAGE",), "steps": ("INT", {{"default": 20, "min": 1, "max": MAX}})}}}}

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "tests/{name}"
"""


def node_source(*names: str, bases: str = "", prelude: str = "MAX = 10000\n") -> str:
    return prelude + "".join(NODE.format(name=n, bases=bases) for n in names)


def extract(files: Files, limits: ScanLimits | None = None) -> Extraction:
    return scan_files(files, limits).extraction


def by_name(extraction: Extraction) -> dict[str, ExtractedNode]:
    return {node.name: node for node in extraction.nodes}


def test_dict_literal_with_every_attribute() -> None:
    source = '''
import folder_paths
from nodes import MAX_RESOLUTION

SAMPLERS = ["euler", "dpmpp_2m"]

class Save:
    """Saves images."""

    @classmethod
    def INPUT_TYPES(s):
        return {
            "required": {
                "images": ("IMAGE",),
                "ckpt": (folder_paths.get_filename_list("checkpoints"),),
                "sampler": (SAMPLERS,),
                "width": ("INT", {"default": 512, "min": -1, "max": MAX_RESOLUTION, "step": 8}),
                "ratio": ("FLOAT", {"default": 1.5, "min": float("-inf")}),
            },
            "optional": {"mask": ("MASK",)},
            "hidden": {"prompt": "PROMPT"},
        }

    RETURN_TYPES = ("IMAGE", "STRING")
    RETURN_NAMES = ("images", "path")
    OUTPUT_IS_LIST = (True, False)
    FUNCTION = "save"
    CATEGORY = "image/save"
    OUTPUT_NODE = True
    DEPRECATED = True
    EXPERIMENTAL = True
    DESCRIPTION = "Saves the images to disk."

NODE_CLASS_MAPPINGS = {"SaveX": Save}
NODE_DISPLAY_NAME_MAPPINGS = {"SaveX": "Save (extended)"}
'''
    extraction = extract({"__init__.py": source})
    assert (extraction.status, extraction.reason) == ("success", "")
    node = extraction.nodes[0]
    assert (node.name, node.display_name, node.class_name, node.file, node.line) == (
        "SaveX",
        "Save (extended)",
        "Save",
        "__init__.py",
        7,
    )
    required = node.input_types["required"]
    assert required["images"] == ["IMAGE"]
    assert required["ckpt"] == ["folder_paths.get_filename_list('checkpoints')"]  # computed: its source text
    assert required["sampler"] == [["euler", "dpmpp_2m"]]  # a module constant, resolved
    assert required["width"] == ["INT", {"default": 512, "min": -1, "max": "MAX_RESOLUTION", "step": 8}]
    assert required["ratio"][1]["min"] == "float('-inf')"
    assert node.input_types["hidden"] == {"prompt": "PROMPT"}
    assert (node.return_types, node.return_names, node.output_is_list) == (
        ["IMAGE", "STRING"],
        ["images", "path"],
        [True, False],
    )
    assert (node.function, node.category, node.description) == ("save", "image/save", "Saves the images to disk.")
    assert node.output_node and node.deprecated and node.experimental
    assert node.computed == ["INPUT_TYPES"] and node.unresolved == []
    fields = node.db_fields()
    assert json.loads(fields["input_types"])["optional"] == {"mask": ["MASK"]}
    assert json.loads(fields["return_types"]) == ["IMAGE", "STRING"] and fields["output_is_list"] == [True, False]
    json.dumps(node.model_dump(mode="json"))


def test_update_subscript_and_dict_call() -> None:
    source = node_source("A", "B", "C", "D") + (
        "NODE_CLASS_MAPPINGS = {'A': A}\nNODE_CLASS_MAPPINGS.update({'B': B})\n"
        "NODE_CLASS_MAPPINGS['C'] = C\nNODE_CLASS_MAPPINGS.update(D=D)\n"
        "NODE_DISPLAY_NAME_MAPPINGS = dict(A='Node A')\n"
    )
    extraction = extract({"__init__.py": source})
    assert extraction.status == "success"
    assert list(by_name(extraction)) == ["A", "B", "C", "D"]
    assert by_name(extraction)["A"].display_name == "Node A"


def test_mappings_merged_from_submodules() -> None:
    files = {
        "__init__.py": (
            "from .nodes import NODE_CLASS_MAPPINGS as BASE\nfrom .extra import tools\nfrom . import more\n"
            "from .star import *\n"
            "NODE_CLASS_MAPPINGS = {**BASE, **tools.MAPPINGS}\nNODE_CLASS_MAPPINGS.update(more.NODE_CLASS_MAPPINGS)\n"
            "NODE_CLASS_MAPPINGS |= STAR\n"
        ),
        "nodes.py": node_source("A") + "NODE_CLASS_MAPPINGS = {'A': A}\n",
        "extra/__init__.py": "",
        "extra/tools.py": node_source("B") + "MAPPINGS = {'B': B}\n",
        "more.py": "from .nodes import A\nNODE_CLASS_MAPPINGS = {'A2': A}\n",
        "star.py": node_source("S") + "STAR = {'S': S}\n",
    }
    extraction = extract(files)
    assert extraction.status == "success", extraction.reason
    assert list(by_name(extraction)) == ["A", "B", "A2", "S"]
    assert by_name(extraction)["A2"].file == "nodes.py" and by_name(extraction)["B"].file == "extra/tools.py"


def test_reexport_and_wrapping_folder() -> None:
    files = {
        "my-pack/__init__.py": "from .py.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS\n",
        "my-pack/py/__init__.py": "",
        "my-pack/py/nodes.py": node_source("A")
        + "NODE_CLASS_MAPPINGS = {'A': A}\nNODE_DISPLAY_NAME_MAPPINGS = {'A': 'Aa'}\n",
    }
    extraction = extract(files)
    assert extraction.status == "success"
    assert by_name(extraction)["A"].display_name == "Aa" and by_name(extraction)["A"].file == "my-pack/py/nodes.py"


def test_inherited_attributes_and_absolute_imports_of_the_pack() -> None:
    files = {
        "__init__.py": "from custom_nodes.mypack.nodes import Child\nNODE_CLASS_MAPPINGS = {'Child': Child}\n",
        "base.py": node_source("Base"),
        "nodes.py": "from .base import Base\nclass Child(Base):\n    FUNCTION = 'child'\n",
    }
    node = extract(files).nodes[0]
    assert (node.function, node.category, node.return_types) == ("child", "tests/Base", ["IMAGE"])
    assert node.input_types["required"]["steps"][1]["max"] == 10000
    assert node.unresolved == []


def test_classes_from_comfyui_itself_are_not_the_packs() -> None:
    files = {
        "__init__.py": "from nodes import LoadImage\nclass MyLoad(LoadImage):\n    CATEGORY = 'x'\n"
        "NODE_CLASS_MAPPINGS = {'MyLoad': MyLoad}\n",
        "nodes.py": node_source("LoadImage"),
    }
    extraction = extract(files)
    node = extraction.nodes[0]
    assert node.category == "x" and set(node.unresolved) == {"INPUT_TYPES", "RETURN_TYPES", "FUNCTION"}
    assert extraction.status == "partial"


def test_input_types_through_a_local_variable() -> None:
    source = (
        "class N:\n    @classmethod\n    def INPUT_TYPES(cls):\n        inputs = {'required': {'x': ('INT',)}}\n"
        "        return inputs\n    RETURN_TYPES = ()\n    FUNCTION = 'f'\n"
        "NODE_CLASS_MAPPINGS = {'N': N}\n"
    )
    node = extract({"__init__.py": source}).nodes[0]
    assert node.input_types == {"required": {"x": ["INT"]}} and "INPUT_TYPES" in node.computed


def test_mappings_built_in_a_loop_are_partial_and_collected_from_submodules() -> None:
    files = {
        "__init__.py": (
            "import importlib\nNODE_CLASS_MAPPINGS = {}\nfor name in ['a', 'b']:\n"
            "    module = importlib.import_module(f'.{name}', __name__)\n"
            "    NODE_CLASS_MAPPINGS.update(module.NODE_CLASS_MAPPINGS)\n"
        ),
        "a.py": node_source("A") + "NODE_CLASS_MAPPINGS = {'A': A}\n",
        "b.py": node_source("B") + "NODE_CLASS_MAPPINGS = {'B': B}\n",
    }
    extraction = extract(files)
    assert extraction.status == "partial"
    assert "built by code" in extraction.reason
    assert sorted(by_name(extraction)) == ["A", "B"]


def test_failures_say_why() -> None:
    assert extract({"nodes.py": node_source("A")}).reason == "no __init__.py at the root of the pack"
    assert extract({"__init__.py": "WEB_DIRECTORY = './web'\n"}).reason == "no NODE_CLASS_MAPPINGS in __init__.py"
    broken = extract({"__init__.py": "def broken(:\n"})
    assert (broken.status, broken.reason) == ("failed", "__init__.py could not be parsed")
    v3 = extract({"__init__.py": "async def comfy_entrypoint():\n    return Extension()\n"})
    assert v3.status == "failed" and "comfy_entrypoint" in v3.reason
    web_only = extract({"__init__.py": "NODE_CLASS_MAPPINGS = {}\nWEB_DIRECTORY = './web'\n"})
    assert (web_only.status, web_only.nodes) == ("success", [])


def test_unresolvable_entries_make_it_partial() -> None:
    files = {
        "__init__.py": (
            "from .nodes import A\nfrom .gone import B\nNODE_CLASS_MAPPINGS = {'A': A, 'B': B, 'C': make('c')}\n"
        ),
        "nodes.py": node_source("A"),
        "broken.py": "def (:\n",
    }
    extraction = extract(files)
    assert extraction.status == "partial"
    assert by_name(extraction)["B"].unresolved == ["class"] and by_name(extraction)["C"].unresolved == ["class"]
    assert "could not be parsed" in extraction.reason and by_name(extraction)["A"].unresolved == []


def test_cycles_between_modules_terminate() -> None:
    files = {
        "__init__.py": "from .a import NODE_CLASS_MAPPINGS\n",
        "a.py": "from .b import NODE_CLASS_MAPPINGS\n",
        "b.py": "from .a import NODE_CLASS_MAPPINGS\n",
    }
    assert extract(files).nodes == []


def test_node_count_limit() -> None:
    source = node_source("A") + "NODE_CLASS_MAPPINGS = {" + ", ".join(f"'N{i}': A" for i in range(20)) + "}\n"
    extraction = extract({"__init__.py": source}, ScanLimits(max_extracted_nodes=5))
    assert len(extraction.nodes) == 5 and extraction.status == "partial"


def test_nothing_is_executed() -> None:
    source = (
        "raise SystemExit('would stop the scanner if it ran')\n" + node_source("A") + "NODE_CLASS_MAPPINGS = {'A': A}\n"
    )
    assert extract({"__init__.py": source}).nodes[0].name == "A"


V3_INIT = """from comfy_api.latest import ComfyExtension, io
from .nodes import Blend, Counter


class Extension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [Blend, Counter]


async def comfy_entrypoint() -> Extension:
    return Extension()
"""
V3_NODES = """from comfy_api.latest import io


class Blend(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="Pack_Blend",
            display_name="Blend",
            category="image/blend",
            description="Blends two images.",
            inputs=[
                io.Image.Input("a"),
                io.Float.Input("factor", default=0.5, min=0.0, max=1.0),
                io.Combo.Input("mode", options=["normal", "multiply"]),
                io.Mask.Input("mask", optional=True),
            ],
            outputs=[io.Image.Output(display_name="blended"), io.ClipVision.Output()],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, a, factor, mode, mask=None) -> io.NodeOutput:
        return io.NodeOutput(a)


class Counter(io.ComfyNode):
    @classmethod
    def define_schema(cls):
        schema = io.Schema(node_id="Pack_Counter", display_name="Counter", category="utils",
                           inputs=[io.Int.Input("start", default=0)], outputs=[io.Int.Output()], is_deprecated=True)
        return schema

    @classmethod
    def execute(cls, start):
        return io.NodeOutput(start + 1)
"""


def test_v3_nodes_come_out_in_the_v1_shape() -> None:
    result = extract({"__init__.py": V3_INIT, "nodes.py": V3_NODES})
    assert (result.status, result.reason) == ("success", "")
    blend, counter = result.nodes
    assert (blend.name, blend.display_name, blend.class_name, blend.file) == (
        "Pack_Blend",
        "Blend",
        "Blend",
        "nodes.py",
    )
    assert (blend.category, blend.description, blend.function) == ("image/blend", "Blends two images.", "execute")
    assert blend.input_types == {
        "required": {
            "a": ["IMAGE"],
            "factor": ["FLOAT", {"default": 0.5, "min": 0.0, "max": 1.0}],
            "mode": [["normal", "multiply"]],
        },
        "optional": {"mask": ["MASK"]},
    }
    assert (blend.return_types, blend.return_names) == (["IMAGE", "CLIP_VISION"], ["blended", "CLIP_VISION"])
    assert (blend.output_node, blend.deprecated) == (True, False)
    assert (counter.name, counter.deprecated, counter.return_types) == ("Pack_Counter", True, ["INT"])
    # Stored like V1 nodes: the same columns.
    assert json.loads(blend.db_fields()["input_types"])["optional"] == {"mask": ["MASK"]}


def test_v3_and_v1_nodes_of_one_pack_are_both_extracted() -> None:
    init = V3_INIT + "from .old import Legacy\nNODE_CLASS_MAPPINGS = {'Legacy': Legacy}\n"
    result = extract({"__init__.py": init, "nodes.py": V3_NODES, "old.py": node_source("Legacy")})
    assert [n.name for n in result.nodes] == ["Legacy", "Pack_Blend", "Pack_Counter"]


def test_a_v3_entrypoint_in_a_submodule_and_an_unreadable_schema() -> None:
    nodes = V3_NODES.replace("return io.Schema(\n            node_id=", "return make_schema(\n            x=")
    result = extract({"__init__.py": "from .ext import comfy_entrypoint\n", "ext.py": V3_INIT, "nodes.py": nodes})
    assert [n.name for n in result.nodes] == ["Blend", "Pack_Counter"]
    assert result.nodes[0].unresolved == ["define_schema"] and result.status == "partial"
