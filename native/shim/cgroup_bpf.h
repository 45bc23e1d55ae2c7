/* cgroup v2 device filter: load a BPF_PROG_TYPE_CGROUP_DEVICE program (built
 * in TypeScript, src/runtime/cgroups/devices-bpf.ts) and attach it to a
 * cgroup. Node cannot make the bpf() syscall, so this small part is C. */
#ifndef BERTH_CGROUP_BPF_H
#define BERTH_CGROUP_BPF_H

#include <stddef.h>

#include "error.h"

/* Name given to berth's programs, so a later call can find and replace them. */
#define CGROUP_BPF_PROG_NAME "berth_devices"

/* Load insns (insn_count struct bpf_insn, 8 bytes each) and attach them to the
 * cgroup2 directory cgroup_dirfd with BPF_F_ALLOW_MULTI. Programs berth
 * attached there before are detached afterwards (the new one is in place
 * first, so access is never wider than either rule set meanwhile); programs
 * attached by anyone else are left alone. Returns 0, or -1 with err filled. */
int cgroup_bpf_attach_devices(int cgroup_dirfd, const void *insns, size_t insn_count, struct berr *err);

#endif
