package orchestrator

import (
	"context"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// IssueTestClientCert issues a client certificate of c's cluster CA for
// user cn, valid from notBefore for validity, unrecorded: for tests of
// refused certificates (an expired one) that AdminKubeconfig never makes.
func IssueTestClientCert(ctx context.Context, c *Cluster, cn string, notBefore time.Time, validity time.Duration) (certPEM, keyPEM []byte, err error) {
	ca, _, err := c.storedCA(ctx)
	if err != nil {
		return nil, nil, err
	}
	key, err := trust.NewKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.IssueClient(trust.ClientRequest{CommonName: cn, PublicKey: key.Public(), NotBefore: notBefore, Validity: validity})
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = trust.MarshalKey(key)
	return trust.EncodeCerts(cert), keyPEM, err
}

// IssueTestUserCert issues a client certificate of c's cluster CA for
// user cn in groups (each an O), valid for an hour, unrecorded: for tests
// of what RBAC lets a user other than the admin do.
func IssueTestUserCert(ctx context.Context, c *Cluster, cn string, groups ...string) (certPEM, keyPEM []byte, err error) {
	ca, _, err := c.storedCA(ctx)
	if err != nil {
		return nil, nil, err
	}
	key, err := trust.NewKey()
	if err != nil {
		return nil, nil, err
	}
	cert, err := ca.IssueClient(trust.ClientRequest{CommonName: cn, Organizations: groups, PublicKey: key.Public(),
		NotBefore: time.Now().Add(-time.Minute), Validity: time.Hour})
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err = trust.MarshalKey(key)
	return trust.EncodeCerts(cert), keyPEM, err
}
