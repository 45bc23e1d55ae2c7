/* Small I/O helpers shared by the executor and the sync protocol. */
#ifndef BERTH_IO_H
#define BERTH_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Read or write exactly len bytes, retrying on EINTR; -1 with errno (EPIPE-like EIO at EOF). */
int read_full(int fd, void *buf, size_t len);
int write_full(int fd, const void *buf, size_t len);
/* Write a whole small file (O_WRONLY|O_TRUNC, no create); -1 with errno. */
int write_file(const char *path, const char *data, size_t len);
/* Atomically replace dirfd/name with data: temp file, fsync, rename, fsync the directory. */
int write_file_atomic(int dirfd, const char *name, const char *data, size_t len);

#endif
