package raftstore

import (
	"sync"

	"github.com/hashicorp/raft"
)

// pipelineTransport is raft's NetworkTransport with its replication
// pipelines wrapped in drainedPipeline.
//
// Why: in hashicorp/raft (v1.8.0 and before), a leader's pipeline to a
// follower has one goroutine sending AppendEntries and one reading the
// responses, joined by unbuffered channels. When the response reader
// stops (the follower answered with a newer term or a failure) while the
// sender is inside AppendEntries, the transport's decoder blocks handing
// the next response to nobody, the sender blocks handing it the next
// request, and the pipeline's Close, which would free both, runs only
// after the sender returns. Replication to that follower stops for good
// and Raft's Shutdown never returns. Draining the responses into a queue
// keeps the decoder, and so the sender, moving until Close.
type pipelineTransport struct{ *raft.NetworkTransport }

// AppendEntriesPipeline implements raft.Transport.
func (t pipelineTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return newDrainedPipeline(p), nil
}

// drainedPipeline always takes the responses of the pipeline it wraps, so
// that pipeline never blocks on a reader that has gone; Consumer hands
// them on in order. The queue holds at most the requests in flight when
// the reader stopped: raft closes the pipeline right after.
type drainedPipeline struct {
	raft.AppendPipeline
	out       chan raft.AppendFuture
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

func newDrainedPipeline(p raft.AppendPipeline) *drainedPipeline {
	d := &drainedPipeline{AppendPipeline: p, out: make(chan raft.AppendFuture), stop: make(chan struct{}), done: make(chan struct{})}
	go d.forward()
	return d
}

func (d *drainedPipeline) forward() {
	defer close(d.done)
	in := d.AppendPipeline.Consumer()
	var queue []raft.AppendFuture
	for {
		var out chan raft.AppendFuture
		var next raft.AppendFuture
		if len(queue) > 0 {
			out, next = d.out, queue[0]
		}
		select {
		case f, ok := <-in:
			if !ok {
				in = nil
				continue
			}
			queue = append(queue, f)
		case out <- next:
			queue[0] = nil
			queue = queue[1:]
		case <-d.stop:
			return
		}
	}
}

// Consumer implements raft.AppendPipeline.
func (d *drainedPipeline) Consumer() <-chan raft.AppendFuture { return d.out }

// Close implements raft.AppendPipeline: it closes the wrapped pipeline,
// then stops the forwarding goroutine and waits for it. Safe to call
// twice.
func (d *drainedPipeline) Close() error {
	d.closeOnce.Do(func() {
		d.closeErr = d.AppendPipeline.Close()
		close(d.stop)
		<-d.done
	})
	return d.closeErr
}
