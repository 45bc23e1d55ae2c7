/* Messages between the caller (berth-runtime/berthd), the shim and its stages.
 * Each is a fixed header then `len` bytes; an fd may ride along (SCM_RIGHTS). */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum msg_type {
  MSG_GO = 1,       /* continue; a = the init's host pid when sent to stage 2 */
  MSG_CREATED = 2,  /* the init exists: a = pid */
  MSG_HOOKS = 3,    /* stage 2 reached OP_SYNC_HOOKS */
  MSG_READY = 4,    /* created and waiting for start: a = pid (monitor mode: once its sockets listen) */
  MSG_ERROR = 5,    /* a = op index, b = errno, data = message */
  MSG_USERNS = 6,   /* stage 1 made a user namespace: a = its pid */
  MSG_INIT_PID = 7, /* stage 1 forked the init: a = its pid */
  MSG_CONSOLE = 8,  /* carries the pty master fd */
  MSG_EXITED = 9,   /* monitor/wait mode: a = exit status (128+signal) */
};

struct msg {
  uint32_t type;
  int32_t a;
  int32_t b;
  uint32_t len;
};

#define MSG_MAX_DATA 4096

int msg_send(int fd, uint32_t type, int32_t a, int32_t b, const char *data, uint32_t len);
int msg_send_fd(int fd, uint32_t type, int passfd);
/* Send data with passfd attached (SCM_RIGHTS) in one sendmsg. */
int send_fd(int sock, int passfd, const void *data, size_t len);
/* Receives one message; data (len+1 bytes, NUL-terminated) may be NULL to discard.
 * *passfd receives an attached fd or -1. Returns -1 on EOF (errno EIO) or error. */
int msg_recv(int fd, struct msg *m, char *data, size_t cap, int *passfd);
/* Report err as MSG_ERROR; used by stages that are about to exit. */
void msg_send_error(int fd, const struct berr *err);

#endif
