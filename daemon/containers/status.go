package containers

import (
	"fmt"
	"math"
	"time"

	"github.com/moby/moby/api/types/container"
)

// statusText is the STATUS column of docker ps: "Up 3 seconds",
// "Up 2 minutes (Paused)", "Exited (0) 2 seconds ago", "Created",
// "Restarting (1) 1 second ago".
func statusText(st state, now time.Time) string {
	switch st.Status {
	case container.StateRunning:
		return "Up " + humanDuration(now.Sub(st.StartedAt))
	case container.StatePaused:
		return "Up " + humanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, humanDuration(now.Sub(st.FinishedAt)))
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	case container.StateCreated:
		return "Created"
	case container.StateExited:
		if st.FinishedAt.IsZero() {
			return ""
		}
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, humanDuration(now.Sub(st.FinishedAt)))
	}
	return ""
}

// humanDuration words a duration as docker does ("Less than a second",
// "1 second", "About a minute", "3 hours", "2 weeks").
func humanDuration(d time.Duration) string {
	seconds := int(d.Seconds())
	switch {
	case seconds < 1:
		return "Less than a second"
	case seconds == 1:
		return "1 second"
	case seconds < 60:
		return fmt.Sprintf("%d seconds", seconds)
	}
	minutes := int(d.Minutes())
	switch {
	case minutes == 1:
		return "About a minute"
	case minutes < 60:
		return fmt.Sprintf("%d minutes", minutes)
	}
	hours := int(math.Round(d.Hours()))
	switch {
	case hours == 1:
		return "About an hour"
	case hours < 48:
		return fmt.Sprintf("%d hours", hours)
	case hours < 24*7*2:
		return fmt.Sprintf("%d days", hours/24)
	case hours < 24*30*2:
		return fmt.Sprintf("%d weeks", hours/24/7)
	case hours < 24*365*2:
		return fmt.Sprintf("%d months", hours/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}
