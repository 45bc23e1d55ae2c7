/* The record stream berth's layer applier (src/images/layer/unpacker.ts) writes to
 * berth-unpack's stdin. TypeScript parses and polices the tar; this program only
 * performs the resulting filesystem operations inside the root, with every path
 * resolved by openat2(RESOLVE_IN_ROOT). Little-endian, no padding. */
#ifndef BERTH_UNPACK_WIRE_H
#define BERTH_UNPACK_WIRE_H

#include <stdint.h>

enum unpack_op {
  UOP_FILE = 1,     /* regular file; `size` data bytes follow the record */
  UOP_DIR = 2,      /* directory (kept when one exists; metadata updated) */
  UOP_SYMLINK = 3,  /* link = target text */
  UOP_HARDLINK = 4, /* link = path of an earlier entry, relative to the root */
  UOP_CHAR = 5,     /* size = major << 32 | minor */
  UOP_BLOCK = 6,
  UOP_FIFO = 7,
  UOP_WHITEOUT = 8, /* remove path (native) or mark it deleted (overlay: 0:0 char device) */
  UOP_OPAQUE = 9,   /* hide lower content of dir path; link = NUL-separated names to keep (native) */
  UOP_END = 10,     /* apply deferred directory times, then exit 0 */
};

#define UNPACK_HDR_SIZE 48

/* Record flags (header byte 1). */
#define UFLAG_DATA_AT_OFFSET 1 /* UOP_FILE: instead of data, a u64 offset into the source file (fd 3) follows */
#define UNPACK_SOURCE_FD 3

struct unpack_rec {
  uint8_t op;
  uint8_t flags;
  uint64_t source_offset; /* with UFLAG_DATA_AT_OFFSET */
  uint32_t mode; /* permission bits, 07777 */
  uint32_t uid, gid;
  int64_t mtime_sec;
  uint32_t mtime_nsec;
  uint32_t path_len;
  uint64_t size;
  uint32_t link_len;
  uint32_t xattr_len; /* repeated: u32 name_len, u32 value_len, name, value */
  char *path;         /* NUL-terminated copies of the variable parts */
  char *link;
  unsigned char *xattrs;
};

#endif
