package containers

import (
	"fmt"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/berth-dev/berth/internal/units"
)

// statusText is the STATUS column of docker ps: "Up 3 seconds",
// "Up 2 minutes (Paused)", "Exited (0) 2 seconds ago", "Created",
// "Restarting (1) 1 second ago".
func statusText(st state, now time.Time) string {
	switch st.Status {
	case container.StateRunning:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt))
	case container.StatePaused:
		return "Up " + units.HumanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case container.StateRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
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
		return fmt.Sprintf("Exited (%d) %s ago", st.ExitCode, units.HumanDuration(now.Sub(st.FinishedAt)))
	}
	return ""
}
