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

// tlsSide is one transport's cluster and figures in benchTLS; slices hold
// one value per round.
type tlsSide struct {
	name                 string
	c                    *cluster
	lead, fol            []float64 // ops/s, 64 writers
	leadCPU, folCPU      []float64 // process CPU µs per write
	latL, latF           durs      // every single-writer sample
	p99L, p99F           []time.Duration
	failover, failLeader durs
}

// benchTLS runs plaintext and mutual-TLS clusters side by side, both alive
// throughout, alternating which goes first in each of -rounds rounds of
// throughput (leader and follower) and single-writer latency, then
// alternating failover runs. A round's two measurements ran back to back,
// so the per-round ratios (and their median) are the paired comparison;
// CPU per write is the figure that least depends on what else loads the
// machine.
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
	sides := []*tlsSide{{name: "plaintext", c: plain}, {name: "mTLS", c: secure}}
	leaderOf := func(c *cluster) func() *raftstore.Store {
		return func() *raftstore.Store {
			i, _ := c.waitLeader(ctx, nil)
			return c.stores[i]
		}
	}
	followerOf := func(c *cluster) func() *raftstore.Store {
		return func() *raftstore.Store {
			i, _ := c.waitLeader(ctx, nil)
			return c.stores[(i+1)%nodes]
		}
	}
	put := func(s func() *raftstore.Store, prefix string) writeFn {
		return func(ctx context.Context, i int) error {
			_, err := s().Put(ctx, key16(prefix, i%keySpace), val)
			return err
		}
	}
	// throughput returns ops/s and process CPU µs per write.
	throughput := func(fn writeFn) (float64, float64, error) {
		cpu0 := cpuTime()
		rate, err := hammer(ctx, *flagWriters, *flagDur, fn)
		cpu := cpuTime() - cpu0
		return rate, float64(cpu.Microseconds()) / (rate * flagDur.Seconds()), err
	}
	for _, sd := range sides {
		for _, s := range []func() *raftstore.Store{leaderOf(sd.c), followerOf(sd.c)} {
			if _, err := hammer(ctx, *flagWriters, 500*time.Millisecond, put(s, "w")); err != nil {
				return fmt.Errorf("%s warm-up: %w", sd.name, err)
			}
		}
	}
	latOps := max(1, *flagLatOps / *flagRounds)
	for r := range *flagRounds {
		order := sides
		if r%2 == 1 {
			order = []*tlsSide{sides[1], sides[0]}
		}
		for _, sd := range order {
			l, lcpu, err := throughput(put(leaderOf(sd.c), "l"))
			if err != nil {
				return fmt.Errorf("%s leader: %w", sd.name, err)
			}
			f, fcpu, err := throughput(put(followerOf(sd.c), "f"))
			if err != nil {
				return fmt.Errorf("%s follower: %w", sd.name, err)
			}
			ll, err := measureSeq(ctx, latOps, put(leaderOf(sd.c), "a"))
			if err != nil {
				return fmt.Errorf("%s latency: %w", sd.name, err)
			}
			lf, err := measureSeq(ctx, latOps, put(followerOf(sd.c), "b"))
			if err != nil {
				return fmt.Errorf("%s latency: %w", sd.name, err)
			}
			sd.lead, sd.fol = append(sd.lead, l), append(sd.fol, f)
			sd.leadCPU, sd.folCPU = append(sd.leadCPU, lcpu), append(sd.folCPU, fcpu)
			sd.latL, sd.latF = append(sd.latL, ll...), append(sd.latF, lf...)
			sd.p99L, sd.p99F = append(sd.p99L, ll.pct(99)), append(sd.p99F, lf.pct(99))
			fmt.Printf("  round %d %-9s: leader %6.0f ops/s (%3.0f µs CPU/write), follower %6.0f ops/s (%3.0f µs); 1 writer p50/p99 leader %s / %s, follower %s / %s\n",
				r+1, sd.name, l, lcpu, f, fcpu, ms(ll.pct(50)), ms(ll.pct(99)), ms(lf.pct(50)), ms(lf.pct(99)))
		}
	}
	plain.close() // idempotent: the deferred close does nothing more
	secure.close()

	for i := range *flagTLSFailRuns {
		order := sides
		if i%2 == 1 {
			order = []*tlsSide{sides[1], sides[0]}
		}
		for _, sd := range order {
			base := raftstore.FastConfig()
			if sd == sides[1] {
				base = p.secure(base)
			}
			fr, err := failoverOnce(ctx, i, base)
			if err != nil {
				return fmt.Errorf("%s failover run %d: %w", sd.name, i+1, err)
			}
			sd.failover, sd.failLeader = append(sd.failover, fr.written), append(sd.failLeader, fr.elected)
			fmt.Printf("  failover %2d %-9s: new leader at %s, first write at %s\n", i+1, sd.name, ms(fr.elected), ms(fr.written))
		}
	}

	pl, se := sides[0], sides[1]
	w := *flagWriters
	for _, x := range []struct {
		name              string
		plain, mtls       []float64
		plainCPU, mtlsCPU []float64
	}{{"Put on leader", pl.lead, se.lead, pl.leadCPU, se.leadCPU}, {"Put via follower", pl.fol, se.fol, pl.folCPU, se.folCPU}} {
		ratios := make([]float64, len(x.plain))
		for i := range ratios {
			ratios[i] = x.mtls[i] / x.plain[i]
		}
		med := median(ratios)
		rep.check("tls", fmt.Sprintf("%s, %d writers: mTLS/plain", x.name, w),
			fmt.Sprintf("median of rounds %.2fx (%s); means %.0f / %.0f ops/s", med, fmtRatios(ratios), mean(x.mtls), mean(x.plain)),
			">= 0.9x", med >= 0.9)
		rep.info("tls", fmt.Sprintf("%s: CPU per write, mTLS / plain", x.name),
			fmt.Sprintf("%.0f / %.0f µs = %.2fx (medians of rounds)", median(x.mtlsCPU), median(x.plainCPU), median(x.mtlsCPU)/median(x.plainCPU)))
	}
	for _, x := range []struct {
		name        string
		plain, mtls durs
		p99s, p99p  []time.Duration
	}{{"leader", pl.latL, se.latL, se.p99L, pl.p99L}, {"via follower", pl.latF, se.latF, se.p99F, pl.p99F}} {
		diffs := make([]float64, len(x.p99s))
		for i := range diffs {
			diffs[i] = float64(x.p99s[i]-x.p99p[i]) / 1e6
		}
		med := median(diffs)
		rep.check("tls", "1 writer "+x.name+": p99 mTLS - plain",
			fmt.Sprintf("median of rounds %+.3f ms (%s); all samples %s / %s, p50 %s / %s", med, fmtDiffs(diffs),
				ms(x.mtls.pct(99)), ms(x.plain.pct(99)), ms(x.mtls.pct(50)), ms(x.plain.pct(50))),
			"<= +0.3 ms", med <= 0.3)
	}
	rep.info("tls", "failover, new leader median: mTLS / plain", fmt.Sprintf("%s / %s", ms(se.failLeader.pct(50)), ms(pl.failLeader.pct(50))))
	rep.check("tls", fmt.Sprintf("failover, first write median (max) of %d: mTLS / plain", len(se.failover)),
		fmt.Sprintf("%s (%s) / %s (%s)", ms(se.failover.pct(50)), ms(se.failover.pct(100)), ms(pl.failover.pct(50)), ms(pl.failover.pct(100))),
		"median <= 1.2x plain, max <= 1 s", se.failover.pct(50) <= pl.failover.pct(50)*6/5 && se.failover.pct(100) <= time.Second)
	return nil
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func fmtRatios(x []float64) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, " ")
}

func fmtDiffs(x []float64) string {
	parts := make([]string, len(x))
	for i, v := range x {
		parts[i] = fmt.Sprintf("%+.2f", v)
	}
	return strings.Join(parts, " ")
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
