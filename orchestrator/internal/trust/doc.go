// Package trust is the cluster's chain of trust: the cluster certificate
// authority, node certificates, mutual TLS configurations that follow
// certificate and CA changes at runtime, join tokens, and the one-request
// protocol by which a new node trades a token for its certificate (as
// `docker swarm join --token` and kubeadm's bootstrap tokens do).
//
// A node certificate names its node the way Kubernetes reads a client
// certificate: CN "system:node:<name>" is the user, O ["system:nodes",
// "flotilla:servers" or "flotilla:agents"] the groups. Nodes know each
// other by that name, not by address.
//
// # Using it
//
//  1. Found the cluster with NewCA (or load an operator's CA with
//     ParseCA). Several founders given the same CA derive the same first
//     gossip and store keys from it with CA.DeriveKey.
//  2. Give every node a key (NewKey; it never leaves the node) and a
//     certificate: a founder asks the CA directly (CA.Issue); a node that
//     joins later uses a token (steps 4 and 5). Hold them in Credentials
//     and the trusted CA certificates in a Pool.
//  3. Build the node's TLS configurations with ServerConfig (its cluster
//     port) and ClientConfig (dialling other nodes; expectName proves a
//     particular node). Both are TLS 1.3 only and read the Credentials and
//     the Pool at every handshake: renew a certificate with
//     Credentials.Set, trust a renewed CA with Pool.SetCAs (CA.Renew keeps
//     the key, so old certificates still verify), and refuse a node with
//     Pool.SetRevoked, all without a restart. On an accepted connection,
//     PeerIdentity says which node dialled (none, for a joining node).
//  4. To admit a node, make a token with NewToken(ca.Fingerprint()), store
//     NewTokenRecord (the SHA-256 of the secret, never the secret) and
//     give the token's String to the operator.
//  5. The new node calls Join with the token and any server's cluster
//     address. It trusts the server only once the server proves it holds a
//     certificate of the CA the token names, sends a CSR signed by its own
//     key, and gets its certificate, the CA certificates and the cluster's
//     keys. The server hands such a connection to ServeJoin, whose handler
//     calls Authorize with the token's record and then CA.Issue.
//
// Beside node certificates, the CA issues the Kubernetes API's
// certificates: CA.IssueClient for a user (a kubeconfig's: CN the user
// name, O the groups, client authentication only) and CA.IssueServing for
// a server's API listener (its SANs, server authentication only).
// Pool.VerifyClient checks a client certificate of any subject, as the API
// server's authenticator needs, with the same CA, validity and revocation
// checks as Verify.
//
// Errors wrap the sentinels in errors.go (ErrExpired, ErrUnknownAuthority,
// ErrRevoked, ErrWrongSecret, ErrFingerprintMismatch, ...); test them with
// errors.Is. Their text names the certificate, token id or address and the
// check that failed, and never contains a secret.
//
// # What it does not do
//
//   - It stores nothing: the CA key, token records and the revoked list
//     live in the cluster store, which the caller owns.
//   - Revocation is a list of serials the caller keeps current in every
//     Pool; there is no CRL or OCSP. Connections already open when a serial
//     is revoked stay open until the caller closes them (PeerIdentity
//     re-checks on demand).
//   - Leaves are issued directly by a trusted CA; intermediate certificates
//     a peer sends are ignored. An operator's CA may itself be an
//     intermediate of their own authority, but then Renew is refused.
//   - It never rotates the CA key: Renew makes a new certificate for the
//     same key. Moving to a new CA key means trusting both in the Pool,
//     reissuing every node certificate, then dropping the old CA.
//   - TLS session resumption is off on the server, so every connection is
//     verified in full against the Pool of the moment.
//   - Host names are not checked (a node's address may change); the name in
//     the certificate is the identity.
package trust
