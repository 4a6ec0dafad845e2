"""The ComfyUI release feed (deployed as `registry-releases`)."""
