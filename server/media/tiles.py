"""Answering Image API requests from stored pyramids: pyramids kept open, renders on a
pool of worker threads (libvips releases the GIL), and a bounded cache of encoded
answers, since viewers ask for the same tiles again and again."""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iiif.image_api import ImageRequest
from server.media.images import Images, StoredImage
from server.media.pyramid import Pyramid, drop_cached_operations

# Pyramids kept open (a file descriptor and the tile tables each).
OPEN_PYRAMIDS = 256


class Tiles:
    def __init__(self, images: Images, cache_bytes: int, workers: int | None = None) -> None:
        self.images = images
        self.cache_bytes = cache_bytes
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        # As many renders at once as there are cores: more would only queue inside libvips.
        self.pool = ThreadPoolExecutor(workers or max(1, cores), thread_name_prefix="tiles")
        self._cache: OrderedDict[tuple[str, ImageRequest], bytes] = OrderedDict()
        self._cached = 0
        self._open: OrderedDict[Path, Pyramid] = OrderedDict()
        self._lock = threading.Lock()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        for pyramid in self._open.values():
            pyramid.close()
        self._open.clear()

    def forget(self, paths: list[Path]) -> None:
        """Let go of the pyramids read from `paths` (their image was deleted): closed once
        no render holds them, so their disk space is freed now, not when they would have
        left the LRU."""
        with self._lock:
            for path in paths:
                self._open.pop(path, None)
        drop_cached_operations()

    def _pyramid(self, path: Path) -> Pyramid:
        with self._lock:
            found = self._open.get(path)
            if found is not None:
                self._open.move_to_end(path)
                return found
        opened = Pyramid(path)
        with self._lock:
            self._open[path] = opened
            while len(self._open) > OPEN_PYRAMIDS:
                # Not closed here: a render may hold it (see Pyramid.__del__).
                self._open.popitem(last=False)
        return opened

    def _render(self, path: Path, req: ImageRequest) -> bytes:
        pyramid = self._pyramid(path)
        return pyramid.stored_tile(req) or pyramid.render(req)

    async def answer(self, image: StoredImage, req: ImageRequest) -> bytes:
        """The encoded answer to `req` on `image`."""
        key = (image.sha256, req)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        path = await self.images.pyramid_file(image)
        data = None
        opened = self._open.get(path)
        if opened is not None:
            # What viewers ask most, a stored tile already in the page cache, is answered
            # here: a copy of some kilobytes costs less than handing it to a thread, and it
            # does not queue behind renders.
            try:
                data = opened.stored_tile(req, wait=False)
            except BlockingIOError:
                pass
        if data is None:
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(self.pool, self._render, path, req)
        if self.cache_bytes and len(data) <= self.cache_bytes // 16:
            self._cache[key] = data
            self._cached += len(data)
            while self._cached > self.cache_bytes:
                _, old = self._cache.popitem(last=False)
                self._cached -= len(old)
        return data
