"""A FUSE file system for the tests: the directory BACKING, mounted at
MOUNT, where every mkdir, rmdir and unlink of a name containing "slow"
takes DELAY seconds, as on a slow or hung disk. Runs in the foreground
until unmounted (fusermount -u MOUNT) or killed.

    python3 slowfs.py BACKING MOUNT DELAY
"""

import errno
import os
import sys
import time

from fusepy import FUSE, FuseOSError, Operations


class SlowFs(Operations):
    def __init__(self, root: str, delay: float) -> None:
        self.root = root
        self.delay = delay

    def _path(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def _maybe_slow(self, path: str) -> None:
        if "slow" in os.path.basename(path):
            time.sleep(self.delay)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except OSError as e:
            raise FuseOSError(e.errno or errno.EIO)

    def access(self, path, mode):
        if not os.access(self._path(path), mode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = self._call(os.lstat, self._path(path))
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size", "st_uid")
        return {key: getattr(st, key) for key in keys}

    def readdir(self, path, fh):
        return [".", ".."] + self._call(os.listdir, self._path(path))

    def readlink(self, path):
        return self._call(os.readlink, self._path(path))

    def mkdir(self, path, mode):
        self._maybe_slow(path)
        return self._call(os.mkdir, self._path(path), mode)

    def rmdir(self, path):
        self._maybe_slow(path)
        return self._call(os.rmdir, self._path(path))

    def unlink(self, path):
        self._maybe_slow(path)
        return self._call(os.unlink, self._path(path))

    def rename(self, old, new):
        return self._call(os.rename, self._path(old), self._path(new))

    def link(self, target, name):
        return self._call(os.link, self._path(name), self._path(target))

    def symlink(self, name, target):
        return self._call(os.symlink, target, self._path(name))

    def chmod(self, path, mode):
        return self._call(os.chmod, self._path(path), mode)

    def chown(self, path, uid, gid):
        return self._call(os.chown, self._path(path), uid, gid)

    def truncate(self, path, length, fh=None):
        with open(self._path(path), "r+b") as f:
            f.truncate(length)

    def utimens(self, path, times=None):
        return self._call(os.utime, self._path(path), times)

    def statfs(self, path):
        st = os.statvfs(self._path(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")
        return {key: getattr(st, key) for key in keys}

    def open(self, path, flags):
        return self._call(os.open, self._path(path), flags)

    def create(self, path, mode, fi=None):
        return self._call(os.open, self._path(path), os.O_RDWR | os.O_CREAT, mode)

    def read(self, path, length, offset, fh):
        return self._call(os.pread, fh, length, offset)

    def write(self, path, data, offset, fh):
        return self._call(os.pwrite, fh, data, offset)

    def flush(self, path, fh):
        return 0

    def fsync(self, path, datasync, fh):
        return self._call(os.fsync, fh)

    def release(self, path, fh):
        return self._call(os.close, fh)


if __name__ == "__main__":
    backing, mount, delay = sys.argv[1], sys.argv[2], float(sys.argv[3])
    FUSE(SlowFs(backing, delay), mount, foreground=True, nothreads=False, allow_other=False)
