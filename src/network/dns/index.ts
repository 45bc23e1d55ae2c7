// The embedded DNS server for user-defined networks: answers container names and
// aliases, forwards the rest to the host's resolvers.
export { DnsServer, type DnsServerOptions, type DnsResolver } from './server.js';
export { upstreamsFromResolvConf, MAX_UPSTREAMS, type Upstream } from './resolv-conf.js';
export { LOCAL_TTL, decide, ptrNameToIPv4, type Decision } from './answer.js';
