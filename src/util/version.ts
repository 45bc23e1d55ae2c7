// berth's version, one place for the CLIs and the daemon (kept equal to package.json's).
export const BERTH_VERSION = '0.1.0';
