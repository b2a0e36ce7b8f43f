#define _GNU_SOURCE
#include "softcopy_shims.h"
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include <unistd.h>

// From linux/ioprio.h; spelled out so the shim builds without kernel headers.
#define SOFTCOPY_IOPRIO_CLASS_SHIFT 13
#define SOFTCOPY_IOPRIO_WHO_PROCESS 1

int softcopy_set_thread_io_priority(int ioclass, int level) {
    int value = (ioclass << SOFTCOPY_IOPRIO_CLASS_SHIFT) | level;
    // who = 0 with IOPRIO_WHO_PROCESS names the calling thread.
    return (int)syscall(SYS_ioprio_set, SOFTCOPY_IOPRIO_WHO_PROCESS, 0, value);
}

int softcopy_get_thread_io_priority(void) {
    return (int)syscall(SYS_ioprio_get, SOFTCOPY_IOPRIO_WHO_PROCESS, 0);
}

// From linux/openat2.h.
struct softcopy_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};
#define SOFTCOPY_RESOLVE_NO_MAGICLINKS 0x02
#define SOFTCOPY_RESOLVE_NO_SYMLINKS 0x04
#define SOFTCOPY_RESOLVE_BENEATH 0x08
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

// Shared by every copy thread: atomics, relaxed (each is a one-way latch or a test switch).
static _Atomic int openat2_state = 0;  // 0 unknown, 1 available, -1 unavailable
static _Atomic int force_fallback = 0;

int softcopy_open_beneath_uses_openat2(void) {
    return !atomic_load_explicit(&force_fallback, memory_order_relaxed)
        && atomic_load_explicit(&openat2_state, memory_order_relaxed) >= 0;
}

void softcopy_open_beneath_force_fallback(int force) {
    atomic_store_explicit(&force_fallback, force, memory_order_relaxed);
}

// Walks `path` one component at a time from `rootfd` with O_NOFOLLOW, so neither a
// symlink nor `..` can lead outside the root.
static int open_beneath_walk(int rootfd, const char *path, int flags, unsigned int mode) {
    if (path[0] == '/') { errno = EXDEV; return -1; }
    char buffer[4096];
    size_t length = strlen(path);
    if (length >= sizeof(buffer)) { errno = ENAMETOOLONG; return -1; }
    memcpy(buffer, path, length + 1);

    int dirfd = rootfd;
    char *component = buffer;
    for (;;) {
        char *slash = strchr(component, '/');
        if (slash) *slash = '\0';
        if (strcmp(component, "..") == 0) {
            if (dirfd != rootfd) close(dirfd);
            errno = EXDEV;
            return -1;
        }
        if (!slash) {
            // The last component: the caller's flags, never following a symlink.
            const char *name = component[0] ? component : ".";
            int fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
            int saved = errno;
            if (dirfd != rootfd) close(dirfd);
            errno = saved;
            return fd;
        }
        if (component[0] != '\0' && strcmp(component, ".") != 0) {
            int next = openat(dirfd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int saved = errno;
            if (dirfd != rootfd) close(dirfd);
            if (next < 0) { errno = saved; return -1; }
            dirfd = next;
        }
        component = slash + 1;
    }
}

int softcopy_open_beneath(int rootfd, const char *path, int flags, unsigned int mode) {
    if (softcopy_open_beneath_uses_openat2()) {
        struct softcopy_open_how how;
        memset(&how, 0, sizeof(how));
        how.flags = (uint64_t)(flags | O_CLOEXEC);
        // openat2 rejects a mode without O_CREAT/O_TMPFILE.
        how.mode = (flags & (O_CREAT | __O_TMPFILE)) ? mode : 0;
        how.resolve = SOFTCOPY_RESOLVE_BENEATH | SOFTCOPY_RESOLVE_NO_SYMLINKS | SOFTCOPY_RESOLVE_NO_MAGICLINKS;
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd >= 0) return (int)fd;
        if (errno != ENOSYS && errno != EPERM) return -1;
        // ENOSYS: an old kernel; EPERM: a seccomp filter that refuses unknown syscalls.
        atomic_store_explicit(&openat2_state, -1, memory_order_relaxed);
    }
    return open_beneath_walk(rootfd, path, flags, mode);
}

void softcopy_set_thread_name(const char *name) {
    pthread_setname_np(pthread_self(), name);
}

int softcopy_terminal_width(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return size.ws_col;
}

#include <sys/xattr.h>

int softcopy_fsetxattr(int fd, const char *name, const void *value, unsigned long size) {
    return fsetxattr(fd, name, value, size, 0);
}

long softcopy_fgetxattr(int fd, const char *name, void *value, unsigned long size) {
    return fgetxattr(fd, name, value, size);
}

long softcopy_lgetxattr(const char *path, const char *name, void *value, unsigned long size) {
    return lgetxattr(path, name, value, size);
}

// getxattrat(2), Linux 6.13; the same number on every architecture. Spelled out, as libc
// headers of the day lack it.
#ifndef __NR_getxattrat
#define __NR_getxattrat 464
#endif
struct softcopy_xattr_args {
    uint64_t value;
    uint32_t size;
    uint32_t flags;
};
static atomic_int softcopy_getxattrat_missing;

long softcopy_getxattrat(int dirfd, const char *path, const char *name, void *value, unsigned long size) {
    if (atomic_load_explicit(&softcopy_getxattrat_missing, memory_order_relaxed)) {
        errno = ENOSYS;
        return -1;
    }
    struct softcopy_xattr_args args = { (uint64_t)(uintptr_t)value, (uint32_t)size, 0 };
    long n = syscall(__NR_getxattrat, dirfd, path, AT_SYMLINK_NOFOLLOW, name, &args, sizeof args);
    if (n < 0 && errno == ENOSYS) atomic_store_explicit(&softcopy_getxattrat_missing, 1, memory_order_relaxed);
    return n;
}

int softcopy_start_writeback(int fd) {
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
}

int softcopy_syncfs(int fd) {
    return syncfs(fd);
}

#include <sys/vfs.h>

long softcopy_filesystem_type(int fd) {
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0) return -1;
    return (long)fs.f_type;
}

int softcopy_direct_flag(void) {
    return O_DIRECT;
}

int softcopy_clear_direct(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags & ~O_DIRECT);
}

#include <sys/stat.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int softcopy_is_mount_root(int fd) {
    struct statx stx;
    if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx) == 0 && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ? 1 : 0;
    }
    // Before Linux 5.8: a mount point's parent is on another device (a bind mount of a
    // folder of the same filesystem is missed here).
    struct stat self, parent;
    if (fstat(fd, &self) != 0 || fstatat(fd, "..", &parent, 0) != 0) return -1;
    if (self.st_dev != parent.st_dev) return 1;
    return self.st_ino == parent.st_ino ? 1 : 0;  // "/" is its own parent
}

int softcopy_rename_noreplace(int fromdir, const char *from, int todir, const char *to) {
    return (int)syscall(SYS_renameat2, fromdir, from, todir, to, RENAME_NOREPLACE);
}
