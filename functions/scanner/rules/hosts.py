"""Hosts honest packs really reach (calibration): model hubs, code hosts, package indexes and their mirrors."""

from __future__ import annotations

import ipaddress

from functions.scanner.rules.base import host_matches

# Where packs fetch model weights, releases and source archives.
KNOWN_DOWNLOAD_HOSTS = frozenset(
    {
        "huggingface.co",
        "hf.co",
        "hf-mirror.com",
        "github.com",
        "githubusercontent.com",
        "gitlab.com",
        "bitbucket.org",
        "civitai.com",
        "dl.fbaipublicfiles.com",
        "download.pytorch.org",
        "modelscope.cn",
        "storage.googleapis.com",
        "openaipublic.azureedge.net",
        "zenodo.org",
        "comfy.org",
    }
)

# The package index, its CDN and the indexes ML packages officially publish to.
OFFICIAL_INDEXES = frozenset(
    {
        "pypi.org",
        "pypi.python.org",
        "files.pythonhosted.org",
        "download.pytorch.org",
        "pypi.nvidia.com",
        "pypi.ngc.nvidia.com",
    }
)

# Mirrors and wheel indexes install scripts point pip at (the calibration saw mirrors in install scripts).
KNOWN_INDEXES = OFFICIAL_INDEXES | frozenset(
    {
        "pypi.tuna.tsinghua.edu.cn",
        "mirrors.tuna.tsinghua.edu.cn",
        "mirrors.aliyun.com",
        "mirrors.cloud.tencent.com",
        "mirrors.tencent.com",
        "pypi.mirrors.ustc.edu.cn",
        "mirrors.ustc.edu.cn",
        "repo.huaweicloud.com",
        "mirrors.huaweicloud.com",
        "mirrors.bfsu.edu.cn",
        "mirror.sjtu.edu.cn",
        "mirrors.163.com",
        "pypi.douban.com",
        "pypi.doubanio.com",
        "data.pyg.org",
        "dl.fbaipublicfiles.com",
        "download.openmmlab.com",
        "github.io",
        "github.com",
        "githubusercontent.com",
        "huggingface.co",
        "storage.googleapis.com",
    }
)


def is_known_download(host: str) -> bool:
    return host_matches(host, KNOWN_DOWNLOAD_HOSTS) or host_matches(host, OFFICIAL_INDEXES)


def is_known_index(host: str) -> bool:
    return host_matches(host, KNOWN_INDEXES)


def public_ip(host: str) -> bool:
    """A literal IP address that is routable on the internet (not loopback, private or link-local)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return False


def is_local(host: str) -> bool:
    if host in ("localhost", "0.0.0.0", ""):  # noqa: S104 - a host name compared, not bound
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host.endswith(".local")
    return not address.is_global


# Owners of the official repositories of popular projects on code hosts: installing `transformers` from
# github.com/huggingface is an early release, from anyone else it is a substitute.
TRUSTED_OWNERS = frozenset(
    {
        "huggingface",
        "openai",
        "anthropics",
        "facebookresearch",
        "pytorch",
        "google",
        "google-research",
        "googleapis",
        "microsoft",
        "nvidia",
        "nvlabs",
        "comfyanonymous",
        "comfy-org",
        "psf",
        "python-pillow",
        "numpy",
        "scipy",
        "pandas-dev",
        "opencv",
        "ultralytics",
        "kornia",
        "mlfoundations",
        "timm",
        "lllyasviel",
        "stability-ai",
    }
)


def url_owner(url: str) -> str:
    """The first path segment of a code-host URL (`github.com/<owner>/<repo>`), lower-cased."""
    rest = url.split("://", 1)[-1]
    segments = [s for s in rest.split("/")[1:] if s]
    return segments[0].lower() if segments else ""
