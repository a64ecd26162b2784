package raftstore

import (
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// stuckPipeline has the shape of raft's netPipeline: AppendEntries hands
// each request to a decoder over an unbuffered channel, and the decoder
// hands each response to the consumer over another.
type stuckPipeline struct {
	inprogress chan *raft.AppendEntriesRequest
	doneCh     chan raft.AppendFuture
	shutdown   chan struct{}
	once       sync.Once
	wg         sync.WaitGroup
}

func newStuckPipeline() *stuckPipeline {
	p := &stuckPipeline{inprogress: make(chan *raft.AppendEntriesRequest), doneCh: make(chan raft.AppendFuture), shutdown: make(chan struct{})}
	p.wg.Go(func() {
		for {
			select {
			case <-p.inprogress:
				select {
				case p.doneCh <- nil:
				case <-p.shutdown:
					return
				}
			case <-p.shutdown:
				return
			}
		}
	})
	return p
}

func (p *stuckPipeline) AppendEntries(args *raft.AppendEntriesRequest, _ *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	select {
	case p.inprogress <- args:
		return nil, nil
	case <-p.shutdown:
		return nil, raft.ErrPipelineShutdown
	}
}

func (p *stuckPipeline) Consumer() <-chan raft.AppendFuture { return p.doneCh }

func (p *stuckPipeline) Close() error {
	p.once.Do(func() { close(p.shutdown); p.wg.Wait() })
	return nil
}

// sendAll sends n requests and reports on the returned channel when they
// have all been accepted.
func sendAll(p raft.AppendPipeline, n int) <-chan struct{} {
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for range n {
			if _, err := p.AppendEntries(&raft.AppendEntriesRequest{}, &raft.AppendEntriesResponse{}); err != nil {
				return
			}
		}
	}()
	return sent
}

// With nobody reading responses, a bare pipeline wedges its sender until
// Close; the drained one keeps accepting requests, hands the queued
// responses on in order once someone reads again, and Close stops its
// goroutine.
func TestDrainedPipelineNeverWedgesTheSender(t *testing.T) {
	bare := newStuckPipeline()
	wedged := sendAll(bare, 3)
	select {
	case <-wedged:
		t.Fatal("the bare pipeline accepted 3 requests with no reader; the test does not model the deadlock")
	case <-time.After(200 * time.Millisecond):
	}
	_ = bare.Close()
	<-wedged

	inner := newStuckPipeline()
	d := newDrainedPipeline(inner)
	select {
	case <-sendAll(d, 5):
	case <-time.After(10 * time.Second):
		t.Fatal("the drained pipeline wedged its sender")
	}
	for i := range 5 {
		select {
		case <-d.Consumer():
		case <-time.After(10 * time.Second):
			t.Fatalf("response %d never reached the consumer", i)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
