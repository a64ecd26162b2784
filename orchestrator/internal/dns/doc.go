// Package dns is Flotilla's cluster DNS: a DNS server in every node
// process that answers for the cluster domain from shared informers on
// Services and EndpointSlices, as Kubernetes' DNS specification
// (https://github.com/kubernetes/dns/blob/master/docs/specification.md)
// and CoreDNS's kubernetes plugin answer.
//
// Usage:
//
//  1. Make a Config: the node's client.Interface (the local registry on a
//     server, the HTTPS client on an agent-only node), the cluster domain
//     and the host:port to serve on (UDP and TCP on one port).
//  2. New(cfg) validates it and starts nothing.
//  3. Start(ctx) binds both sockets, starts the informers and serves; it
//     returns once the server answers (the informers may still be
//     listing: until they have synced, every name in the domain is
//     answered with SERVFAIL, so that no resolver caches a false
//     NXDOMAIN).
//  4. Close stops the server and waits for every goroutine it owns.
//
// What it answers, under <domain> (default cluster.local):
//
//   - <svc>.<ns>.svc: A — the ClusterIP of a ClusterIP, NodePort or
//     LoadBalancer Service; every ready endpoint address of a headless
//     Service (every endpoint when it publishes not-ready addresses);
//     CNAME to spec.externalName for an ExternalName Service.
//   - _<port>._<proto>.<svc>.<ns>.svc: SRV for each named port (target
//     <svc>.<ns>.svc with the Service port, or for a headless Service one
//     record per ready endpoint with its endpoint port, targets
//     <hostname or dashed IP>.<svc>.<ns>.svc with their A records in the
//     additional section). An SRV query on <svc>.<ns>.svc answers every
//     named port.
//   - <hostname>.<svc>.<ns>.svc (and <a-b-c-d>.<svc>.<ns>.svc): A for an
//     endpoint of a headless Service with that hostname (or address).
//   - A name that exists with no record of the asked type (AAAA for
//     every name, since Flotilla is IPv4 only) gets NOERROR with no
//     answer, never NXDOMAIN, so that resolvers go on to ask for A.
//   - Any other name in the domain: NXDOMAIN with the domain's SOA, so
//     that search-path expansions (name.ns.svc.cluster.local, ...) fail
//     fast and are cached negatively.
//
// What it does not do:
//
//   - Names outside the cluster domain are REFUSED, not forwarded: a
//     forwarder needs the host's resolvers and loop protection, which the
//     resolv.conf design of the node network (a later part of issue 17)
//     brings. Containers' resolv.conf does not point here yet
//     (dnsPolicy ClusterFirst is not implemented).
//   - No PTR records, no Pod A records (<a-b-c-d>.<ns>.pod), no AAAA, no
//     DNSSEC, no zone transfers.
package dns
