// Resource writers that are the same on v1 and v2 apart from a file suffix.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '../../oci/runtime-spec.js';
import { writeFile } from './files.js';

/** hugetlb.<size><suffix> (v1 .limit_in_bytes, v2 .max), and the reservation limit too where the kernel has it (5.7+). */
export function setHugetlb(dir: string, r: LinuxResources, suffix: string): void {
  for (const h of r.hugepageLimits ?? []) {
    const prefix = `hugetlb.${h.pageSize}`;
    writeFile(dir, `${prefix}${suffix}`, String(h.limit));
    if (existsSync(join(dir, `${prefix}.rsvd${suffix}`))) writeFile(dir, `${prefix}.rsvd${suffix}`, String(h.limit));
  }
}

/** rdma.max lines: "mlx4_0 hca_handle=2 hca_object=2000" (same on v1 and v2). */
export function setRdma(dir: string, r: LinuxResources): void {
  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    let line = dev;
    if (l.hcaHandles !== undefined && l.hcaHandles !== null) line += ` hca_handle=${l.hcaHandles}`;
    if (l.hcaObjects !== undefined && l.hcaObjects !== null) line += ` hca_object=${l.hcaObjects}`;
    writeFile(dir, 'rdma.max', line);
  }
}
