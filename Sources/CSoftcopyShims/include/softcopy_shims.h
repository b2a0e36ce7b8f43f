#ifndef SOFTCOPY_SHIMS_H
#define SOFTCOPY_SHIMS_H

#include <stddef.h>
#include <stdint.h>

// Typed wrappers for C calls that Swift cannot make directly: syscall(2) is variadic,
// and openat2 has no glibc wrapper.

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, value) for the calling thread.
/// `ioclass` is 1 (realtime), 2 (best-effort) or 3 (idle); `level` 0...7.
/// Returns 0 or -1 with errno set.
int softcopy_set_thread_io_priority(int ioclass, int level);

/// ioprio_get for the calling thread; returns the raw value or -1 with errno set.
int softcopy_get_thread_io_priority(void);

/// Opens `path` (relative) beneath the directory `rootfd`, refusing to leave it: no
/// absolute paths, no `..` above the root, and no symlink anywhere on the way.
/// Uses openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where the kernel has it (5.6+),
/// and otherwise walks the components with O_NOFOLLOW. Returns an fd or -1 with errno
/// (ELOOP for a symlink, EXDEV for an escape, ENOENT, ...).
int softcopy_open_beneath(int rootfd, const char *path, int flags, unsigned int mode);

/// renameat2(RENAME_NOREPLACE): renames unless something is already at `to` (EEXIST).
/// glibc declares renameat2 only with _GNU_SOURCE, which Swift's Glibc module lacks.
int softcopy_rename_noreplace(int fromdir, const char *from, int todir, const char *to);

/// 1 if openat2 is in use, 0 if the component walk is (for diagnostics and tests).
int softcopy_open_beneath_uses_openat2(void);

/// Forces the component-walk fallback (tests run both paths).
void softcopy_open_beneath_force_fallback(int force);

/// Names the calling thread (shown by top -H and in core dumps); at most 15 bytes.
void softcopy_set_thread_name(const char *name);

/// The width of the terminal on `fd` in columns, or 0 if it is not a terminal (ioctl is variadic).
int softcopy_terminal_width(int fd);

/// fsetxattr/fgetxattr (sys/xattr.h is not part of Swift's Glibc module).
/// Return 0 / the value's length, or -1 with errno set.
int softcopy_fsetxattr(int fd, const char *name, const void *value, unsigned long size);
long softcopy_fgetxattr(int fd, const char *name, void *value, unsigned long size);
/// lgetxattr: one syscall where open, fgetxattr and close would be three (listings).
long softcopy_lgetxattr(const char *path, const char *name, void *value, unsigned long size);
/// getxattrat(dirfd, path, AT_SYMLINK_NOFOLLOW): a file's attribute beside a folder that is
/// already open, without walking its path again. -1 with ENOSYS before Linux 6.13.
long softcopy_getxattrat(int dirfd, const char *path, const char *name, void *value, unsigned long size);

/// sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE): starts writing a file's dirty pages
/// back without waiting (a _GNU_SOURCE call the Glibc module does not export).
int softcopy_start_writeback(int fd);

/// syncfs(fd): writes back and commits the whole filesystem holding fd (a _GNU_SOURCE
/// call the Glibc module does not export).
int softcopy_syncfs(int fd);

/// The f_type of the filesystem holding fd (fstatfs; sys/vfs.h is not in the Glibc
/// module), or -1 with errno set.
long softcopy_filesystem_type(int fd);

/// O_DIRECT, whose value differs between architectures (and needs _GNU_SOURCE).
int softcopy_direct_flag(void);

/// Turns O_DIRECT off on an open descriptor (fcntl is variadic): a filesystem that
/// refuses an aligned direct write gets the rest of the file through the page cache.
/// Returns 0 or -1 with errno set.
int softcopy_clear_direct(int fd);

/// 1 if the folder open as `fd` is the root of a mounted filesystem (statx's
/// STATX_ATTR_MOUNT_ROOT, else its parent on another device), 0 if not, -1 with errno.
int softcopy_is_mount_root(int fd);

/// CRC-32C (Castagnoli) of `count` bytes continuing from `state` (start with 0xFFFFFFFF;
/// the checksum is the final state XOR 0xFFFFFFFF): SSE 4.2's crc32 instruction where
/// the CPU has it, eight-table slicing otherwise.
uint32_t softcopy_crc32c_update(uint32_t state, const void *bytes, size_t count);

/// 1 if the CPU instruction is in use (for tests and diagnostics).
int softcopy_crc32c_uses_hardware(void);

/// Forces the table method (tests run both paths).
void softcopy_crc32c_force_software(int force);

/// Byte shuffle of `count` bytes of `size`-byte elements from `in` to `out` (which must
/// not overlap): every element's first byte, then every second byte, ...; the bytes after
/// the last whole element are copied as they are. `softcopy_unshuffle` undoes it.
void softcopy_shuffle(uint8_t *out, const uint8_t *in, size_t count, size_t size);
void softcopy_unshuffle(uint8_t *out, const uint8_t *in, size_t count, size_t size);

#endif
