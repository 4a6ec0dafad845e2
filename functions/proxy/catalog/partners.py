"""Every partner the gateway serves, by name: the seed partners (`seed`), the image and video partners
(`image_video`), the video, 3D and upscaling partners (`video_3d`), the text, speech and audio partners
(`text_audio`), and those whose upstream auth is signed or whose
job protocol takes several steps (`signed_steps`)."""

from __future__ import annotations

from functions.proxy.catalog.image_video import IMAGE_VIDEO
from functions.proxy.catalog.model import Partner
from functions.proxy.catalog.seed import SEED
from functions.proxy.catalog.signed_steps import SIGNED_STEPS
from functions.proxy.catalog.text_audio import TEXT_AUDIO
from functions.proxy.catalog.video_3d import VIDEO_3D

PARTNERS: dict[str, Partner] = {p.name: p for p in (*SEED, *IMAGE_VIDEO, *VIDEO_3D, *TEXT_AUDIO, *SIGNED_STEPS)}
