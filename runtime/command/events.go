package command

import (
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/berth-dev/berth/runtime/container"
)

// event is runc's events JSON: {"type":"stats"|"oom","id":…,"data":…}.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

func runEvents(a *app, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	interval := fs.Duration("interval", 5*time.Second, "interval between stats")
	stats := fs.Bool("stats", false, "print the statistics once and exit")
	pos, err := parse(fs, args, false)
	if err != nil {
		return err
	}
	id, err := oneID("events", pos)
	if err != nil {
		return err
	}
	c, err := container.Load(a.root, id)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	if *stats {
		s, err := c.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(event{Type: "stats", ID: id, Data: s})
	}
	ooms, _ := c.OOMKills()
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	// OOM kills are checked often; stats go out every interval.
	poll := time.NewTicker(200 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case <-poll.C:
			// OOM kills are read before the status: the kill that ends the
			// container is reported too.
			stopped := c.Status() == container.Stopped
			if n, err := c.OOMKills(); err == nil && n > ooms {
				ooms = n
				if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
					return err
				}
			}
			if stopped {
				return nil
			}
		case <-tick.C:
			s, err := c.Stats()
			if err != nil {
				if c.Status() == container.Stopped {
					return nil
				}
				return err
			}
			if err := enc.Encode(event{Type: "stats", ID: id, Data: s}); err != nil {
				return err
			}
		}
	}
}
