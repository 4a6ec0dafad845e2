"""CI: the results the ComfyUI CI action uploads, and the dashboard's reads of ci.comfy.org."""
