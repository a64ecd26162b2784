package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
)

// benchPKI is an in-memory CA (ECDSA P-256, as an orchestrator would
// mint) and one server certificate for 127.0.0.1 that every node of a
// benchmark cluster presents, as server and as client.
type benchPKI struct {
	pool *x509.CertPool
	cert tls.Certificate
}

var pki = sync.OnceValues(newBenchPKI)

func newBenchPKI() (*benchPKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "bench node", OrganizationalUnit: []string{"server"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &benchPKI{pool: pool, cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}, nil
}

// secure returns cfg with mutual TLS and an AuthorizePeer that admits
// the server role, as an orchestrator configures its stores.
func (p *benchPKI) secure(cfg raftstore.Config) raftstore.Config {
	cfg.TLS = &tls.Config{
		Certificates: []tls.Certificate{p.cert},
		RootCAs:      p.pool,
		ClientCAs:    p.pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
	cfg.AuthorizePeer = func(cs tls.ConnectionState) error {
		if !slices.Contains(cs.PeerCertificates[0].Subject.OrganizationalUnit, "server") {
			return errors.New("not a server")
		}
		return nil
	}
	return cfg
}

// transportCfg applies -tls to a scenario's base config.
func transportCfg(cfg raftstore.Config) (raftstore.Config, error) {
	if !*flagTLS {
		return cfg, nil
	}
	p, err := pki()
	if err != nil {
		return cfg, err
	}
	return p.secure(cfg), nil
}

// ---------------------------------------------------------------- tls

// benchTLS runs plaintext and mutual-TLS clusters side by side, both alive
// throughout, alternating which goes first in each of -rounds rounds of
// throughput (leader and follower) and single-writer latency, then
// alternating failover runs.
func benchTLS(rep *report) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	p, err := pki()
	if err != nil {
		return err
	}
	plainCfg := raftstore.DefaultConfig()
	plain, err := newClusterCfg(ctx, plainCfg, "raftstore-plain-", nodes)
	if err != nil {
		return err
	}
	defer plain.close()
	secure, err := newClusterCfg(ctx, p.secure(plainCfg), "raftstore-mtls-", nodes)
	if err != nil {
		return err
	}
	defer secure.close()

	val := value(valueSize, 4)
	const keySpace = 20000
	type side struct {
		name         string
		c            *cluster
		lead, fol    []float64
		latL, latF   durs
		failover     durs
		failElection durs
	}
	sides := []*side{{name: "plaintext", c: plain}, {name: "mTLS", c: secure}}
	leaderOf := func(c *cluster) *raftstore.Store {
		i, _ := c.waitLeader(ctx, nil)
		return c.stores[i]
	}
	followerOf := func(c *cluster) *raftstore.Store {
		i, _ := c.waitLeader(ctx, nil)
		return c.stores[(i+1)%nodes]
	}
	put := func(s func() *raftstore.Store, prefix string) writeFn {
		return func(ctx context.Context, i int) error {
			_, err := s().Put(ctx, key16(prefix, i%keySpace), val)
			return err
		}
	}
	for _, sd := range sides {
		if _, err := hammer(ctx, *flagWriters, 500*time.Millisecond, put(func() *raftstore.Store { return leaderOf(sd.c) }, "w")); err != nil {
			return fmt.Errorf("%s warm-up: %w", sd.name, err)
		}
		if _, err := hammer(ctx, *flagWriters, 500*time.Millisecond, put(func() *raftstore.Store { return followerOf(sd.c) }, "w")); err != nil {
			return fmt.Errorf("%s warm-up: %w", sd.name, err)
		}
	}
	latOps := max(1, *flagLatOps / *flagRounds)
	for r := range *flagRounds {
		order := sides
		if r%2 == 1 {
			order = []*side{sides[1], sides[0]}
		}
		for _, sd := range order {
			l, err := hammer(ctx, *flagWriters, *flagDur, put(func() *raftstore.Store { return leaderOf(sd.c) }, "l"))
			if err != nil {
				return fmt.Errorf("%s leader: %w", sd.name, err)
			}
			f, err := hammer(ctx, *flagWriters, *flagDur, put(func() *raftstore.Store { return followerOf(sd.c) }, "f"))
			if err != nil {
				return fmt.Errorf("%s follower: %w", sd.name, err)
			}
			ll, err := measureSeq(ctx, latOps, put(func() *raftstore.Store { return leaderOf(sd.c) }, "a"))
			if err != nil {
				return fmt.Errorf("%s latency: %w", sd.name, err)
			}
			lf, err := measureSeq(ctx, latOps, put(func() *raftstore.Store { return followerOf(sd.c) }, "b"))
			if err != nil {
				return fmt.Errorf("%s latency: %w", sd.name, err)
			}
			sd.lead, sd.fol = append(sd.lead, l), append(sd.fol, f)
			sd.latL, sd.latF = append(sd.latL, ll...), append(sd.latF, lf...)
			fmt.Printf("  round %d %-9s: leader %6.0f ops/s, follower %6.0f ops/s; 1 writer p50/p99 leader %s / %s, follower %s / %s\n",
				r+1, sd.name, l, f, ms(ll.pct(50)), ms(ll.pct(99)), ms(lf.pct(50)), ms(lf.pct(99)))
		}
	}
	plain.close() // idempotent: the deferred close does nothing more
	secure.close()

	for i := range *flagTLSFailRuns {
		order := sides
		if i%2 == 1 {
			order = []*side{sides[1], sides[0]}
		}
		for _, sd := range order {
			base := raftstore.FastConfig()
			if sd.name == "mTLS" {
				base = p.secure(base)
			}
			fr, err := failoverOnce(ctx, i, base)
			if err != nil {
				return fmt.Errorf("%s failover run %d: %w", sd.name, i+1, err)
			}
			sd.failover, sd.failElection = append(sd.failover, fr.written), append(sd.failElection, fr.elected)
			fmt.Printf("  failover %2d %-9s: new leader at %s, first write at %s\n", i+1, sd.name, ms(fr.elected), ms(fr.written))
		}
	}

	pl, se := sides[0], sides[1]
	ratio := func(a, b []float64) (float64, string) {
		var per []string
		for i := range a {
			per = append(per, fmt.Sprintf("%.2f", b[i]/a[i]))
		}
		return mean(b) / mean(a), strings.Join(per, ", ")
	}
	w := *flagWriters
	rl, perL := ratio(pl.lead, se.lead)
	rep.check("tls", fmt.Sprintf("Put on leader, %d writers: mTLS/plain", w),
		fmt.Sprintf("%.0f / %.0f ops/s = %.2fx (rounds %s)", mean(se.lead), mean(pl.lead), rl, perL), ">= 0.9x", rl >= 0.9)
	rf, perF := ratio(pl.fol, se.fol)
	rep.check("tls", fmt.Sprintf("Put via follower, %d writers: mTLS/plain", w),
		fmt.Sprintf("%.0f / %.0f ops/s = %.2fx (rounds %s)", mean(se.fol), mean(pl.fol), rf, perF), ">= 0.9x", rf >= 0.9)
	for _, x := range []struct {
		name        string
		plain, mtls durs
	}{{"leader", pl.latL, se.latL}, {"via follower", pl.latF, se.latF}} {
		d := x.mtls.pct(99) - x.plain.pct(99)
		rep.check("tls", "1 writer "+x.name+": p99 mTLS - plain",
			fmt.Sprintf("%s - %s = %+.3f ms (p50 %s / %s)", ms(x.mtls.pct(99)), ms(x.plain.pct(99)), float64(d)/1e6, ms(x.mtls.pct(50)), ms(x.plain.pct(50))),
			"<= +0.3 ms", d <= 300*time.Microsecond)
	}
	rep.info("tls", "failover, new leader median: mTLS / plain", fmt.Sprintf("%s / %s", ms(se.failElection.pct(50)), ms(pl.failElection.pct(50))))
	rep.check("tls", fmt.Sprintf("failover, first write median (max) of %d: mTLS / plain", len(se.failover)),
		fmt.Sprintf("%s (%s) / %s (%s)", ms(se.failover.pct(50)), ms(se.failover.pct(100)), ms(pl.failover.pct(50)), ms(pl.failover.pct(100))),
		"median <= 1.2x plain, max <= 1 s", se.failover.pct(50) <= pl.failover.pct(50)*6/5 && se.failover.pct(100) <= time.Second)
	return nil
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
