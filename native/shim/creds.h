/* The process's identity and privileges: user and groups, capabilities, rlimits,
 * no_new_privs, seccomp, the working directory. */
#ifndef BERTH_CREDS_H
#define BERTH_CREDS_H

#include "error.h"
#include "program.h"

int creds_bounding(const struct op *op, struct berr *err);
int creds_user(const struct op *op, struct berr *err);
int creds_caps(const struct op *op, struct berr *err);
int creds_rlimit(const struct op *op, struct berr *err);
int creds_no_new_privs(struct berr *err);
int creds_session_keyring(const char *name, struct berr *err);
int creds_cloexec_from(unsigned first, struct berr *err);
int creds_seccomp(const struct op *op, struct berr *err);
int creds_chdir(const struct op *op, struct berr *err);

#endif
